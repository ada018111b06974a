package dev.spool.samples.client

import dev.spool.queue.BatchEventResult
import dev.spool.queue.OfflineQueue
import dev.spool.storage.QueueStorageException
import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import dev.spool.samples.Wire
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.drop
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull

/**
 * The app's sync layer: uploads the [OfflineQueue] to an ingestion server in batches, the way an
 * Android app's background worker would.
 *
 * Each round ([syncOnce]):
 * 1. peeks the oldest events and plans a batch (at most [SyncConfig.maxBatchEvents] events and
 *    [SyncConfig.maxBatchBytes] bytes, see [BatchPlanner]);
 * 2. gzips and uploads it through [api];
 * 3. maps the answer to [BatchEventResult]s and hands them to [acknowledger] (normally a
 *    [dev.spool.flusher.SyncedRowFlusher], see [Acknowledger.flusher]):
 *    - `success` and `duplicate` become SUCCESS and DUPLICATE, which delete;
 *    - `error` becomes REJECTED (retryCount + 1), unless the event was already rejected
 *      [SyncConfig.maxRejections] times: then it is written to [deadLetters] and becomes
 *      FAILED_PERMANENT, so a poisoned event cannot block the queue;
 *    - 401, 5xx and I/O errors make the whole batch FAILED_TRANSIENT: retry counts unchanged;
 *    - 413 halves the batch and sends each half; a single event still too large goes to
 *      [deadLetters] and becomes FAILED_PERMANENT;
 *    - another 4xx makes the whole batch REJECTED (the server refuses its content).
 *
 * The loop started by [start] waits for [Connectivity.online], runs rounds back to back while
 * there is work, backs off with [SyncConfig.backoff] after transient failures (a
 * [QueueStorageException] counts as one), and when the queue is empty flushes [acknowledger] and
 * waits for new events. Any other exception ends the loop's job.
 *
 * Delivery is at least once: an answer lost on the way (a cut connection) means the batch is sent
 * again and the server answers `duplicate`. The server's dedupe by event id makes it exactly once
 * in storage.
 *
 * **Threading.** Run one loop per queue. [syncOnce] must not run concurrently with the loop.
 * [progress] may be read from anywhere. Cancelling the loop's job stops it between or inside
 * rounds; an interrupted round leaves its events in the queue to be sent again.
 */
public class SyncWorker(
    private val queue: OfflineQueue,
    private val api: IngestionApi,
    private val connectivity: Connectivity,
    private val deadLetters: DeadLetterFile,
    private val acknowledger: Acknowledger = Acknowledger.direct(queue),
    private val config: SyncConfig = SyncConfig(),
) {
    private val planner = BatchPlanner(config.maxBatchEvents, config.maxBatchBytes)
    private val state = MutableStateFlow(SyncProgress())

    /** Counters of what was done so far. */
    public val progress: StateFlow<SyncProgress> = state.asStateFlow()

    /** What one [syncOnce] round did. */
    public enum class Round {
        /** There was nothing to upload. */
        IDLE,

        /** A batch was uploaded and its verdicts applied. */
        SYNCED,

        /** The batch (or part of it) failed as a whole and will be retried after a backoff. */
        FAILED_TRANSIENT,
    }

    /** Starts the sync loop in [scope]; cancel the returned job to stop it. */
    public fun start(scope: CoroutineScope): Job = scope.launch(CoroutineName("spool-sync")) {
        var failures = 0
        while (true) {
            connectivity.online.first { it }
            val round = try {
                syncOnce().also { if (it == Round.IDLE) acknowledger.flush() }
            } catch (e: QueueStorageException) {
                // A disk that is full or locked for a moment: keep the loop alive and retry later.
                state.update { it.copy(lastError = "queue: ${e.message}") }
                Round.FAILED_TRANSIENT
            }
            when (round) {
                Round.IDLE -> withTimeoutOrNull(config.idlePoll) { queue.sizes.drop(1).first() }
                Round.SYNCED -> failures = 0
                Round.FAILED_TRANSIENT -> {
                    failures++
                    state.update { it.copy(transientFailures = it.transientFailures + 1) }
                    delay(config.backoff.delayFor(failures))
                }
            }
        }
    }

    /**
     * Uploads one batch of the oldest events and applies the verdicts; see the class description.
     *
     * @throws dev.spool.storage.QueueStorageException if the queue cannot be read or written.
     * @throws java.io.IOException if the dead-letter file cannot be written; nothing is deleted.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun syncOnce(): Round {
        val batch = planner.plan(queue.peek(config.maxBatchEvents)) ?: return Round.IDLE
        val round = RoundResults()
        send(batch, round)
        if (round.dead.isNotEmpty()) withContext(config.ioContext) { deadLetters.append(round.dead) }
        acknowledger.processBatchResults(round.results, batch.events)
        state.update { p ->
            p.copy(
                uploaded = p.uploaded + round.results.count { it.status == SyncStatus.SUCCESS },
                duplicates = p.duplicates + round.results.count { it.status == SyncStatus.DUPLICATE },
                rejected = p.rejected + round.results.count { it.status == SyncStatus.REJECTED },
                deadLettered = p.deadLettered + round.dead.size,
                requests = p.requests + round.requests,
                lastError = round.error ?: p.lastError,
            )
        }
        return if (round.transient) Round.FAILED_TRANSIENT else Round.SYNCED
    }

    private class RoundResults {
        val results = ArrayList<BatchEventResult>()
        val dead = ArrayList<Pair<QueuedEvent, String>>()
        var requests = 0
        var transient = false
        var error: String? = null

        fun all(batch: Batch, status: SyncStatus, error: String? = null) {
            batch.events.mapTo(results) { BatchEventResult(it.eventId, status, error) }
        }

        fun permanent(event: QueuedEvent, reason: String) {
            dead += event to reason
            results += BatchEventResult(event.eventId, SyncStatus.FAILED_PERMANENT, reason)
        }
    }

    private suspend fun send(batch: Batch, round: RoundResults) {
        round.requests++
        when (val answer = api.upload(batch)) {
            is UploadResult.Answered -> for (event in batch.events) {
                val error = answer.errors[event.eventId]
                when (answer.verdicts[event.eventId]) {
                    Wire.Status.SUCCESS -> round.results += BatchEventResult(event.eventId, SyncStatus.SUCCESS)
                    Wire.Status.DUPLICATE -> round.results += BatchEventResult(event.eventId, SyncStatus.DUPLICATE)
                    Wire.Status.ERROR -> reject(event, error ?: "error", round)
                    null -> round.results += BatchEventResult(event.eventId, SyncStatus.FAILED_TRANSIENT, "not answered")
                }
            }
            UploadResult.TooLarge ->
                if (batch.events.size == 1) {
                    round.permanent(batch.events.single(), "larger than the server's limit (${batch.body.size} bytes)")
                } else {
                    val (first, second) = batch.halves()
                    send(first, round)
                    // After a transient failure, don't push the second half into the same outage.
                    if (round.transient) round.all(second, SyncStatus.FAILED_TRANSIENT) else send(second, round)
                }
            is UploadResult.Refused -> batch.events.forEach { reject(it, "HTTP ${answer.httpStatus}", round) }
            is UploadResult.Transient -> {
                round.transient = true
                round.error = answer.reason
                round.all(batch, SyncStatus.FAILED_TRANSIENT, answer.reason)
            }
        }
    }

    /** REJECTED, or moved aside once rejected more than [SyncConfig.maxRejections] times. */
    private fun reject(event: QueuedEvent, error: String, round: RoundResults) {
        if (event.retryCount >= config.maxRejections) {
            round.permanent(event, "rejected ${event.retryCount + 1} times: $error")
        } else {
            round.results += BatchEventResult(event.eventId, SyncStatus.REJECTED, error)
        }
    }

    override fun toString(): String = "SyncWorker($api, $config)"
}
