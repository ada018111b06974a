package dev.spool.sync

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
import dev.spool.queue.BlockingOfflineQueue
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import dev.spool.storage.QueueStorageException
import dev.spool.sync.internal.BatchPlanner
import dev.spool.sync.internal.Round
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.async
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.runInterruptible
import kotlinx.coroutines.selects.select
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory
import java.io.IOException
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.coroutines.CoroutineContext
import kotlin.time.Duration

/**
 * The upload loop of an [OfflineQueue]: reads batches of the oldest events, uploads them through
 * an [Uploader], and applies the server's verdicts, so no app writes this loop itself.
 *
 * **A flush.** When the [SyncConfig.policy] triggers, or [flushNow] is called, the sync uploads
 * batch after batch until nothing is pending:
 * 1. it waits while [online] is false (pause), then peeks the oldest events and plans a batch of
 *    at most [SyncConfig.maxBatchEvents] events and [SyncConfig.maxBatchBytes] bytes;
 * 2. it calls [Uploader.upload], cancelled after [SyncConfig.uploadTimeout];
 * 3. it applies the outcome. SUCCESS and DUPLICATE are acknowledged through a
 *    [SyncedRowFlusher]: the rows leave the next peek at once and are deleted in batches.
 *    REJECTED adds one to the event's retry count; an event rejected more than
 *    [SyncConfig.maxRejections] times, or answered FAILED_PERMANENT, goes to [deadLetters] first
 *    and is deleted only after the sink returned. An unanswered event is left untouched.
 *    [UploadOutcome.TooLarge] splits the batch in halves; a single event too large is
 *    dead-lettered.
 *
 * A round fails when the whole batch failed ([UploadOutcome.Failed], a timeout, an exception
 * from the uploader, a [QueueStorageException] or an [IOException] from the sink) or when it
 * removed nothing from the queue. The flush then stops, and the sync retries after
 * [SyncConfig.retryPolicy]'s delay for the number of consecutive failed rounds, or exactly the
 * server's [UploadOutcome.Failed.retryAfter] if it sent one. A round that removes anything resets
 * the count.
 *
 * **Delivery is at least once.** An event leaves the queue only after the server acknowledged it
 * or the sink stored it. An answer lost on the way (a dropped connection, a timeout) means the
 * batch is uploaded again, so the server should deduplicate by event id and answer DUPLICATE.
 *
 * **Structured concurrency.** [start] launches the loop in the caller's scope, as its child: it
 * stops when that scope is cancelled (an upload in flight is cancelled, and its events are
 * uploaded again later). [close] stops it gently: the current batch is finished and applied, the
 * acknowledgements are flushed to disk, and the job completes; [join] waits for that. An
 * exception other than those above, such as an [IllegalStateException] because the queue was
 * closed under the sync, fails the job and so its scope, as any child's would.
 *
 * **Threading.** [flushNow], [progress] and [close] may be used from any thread. The loop runs
 * on the scope's dispatcher; the queue's reads and writes run on the queue's own threads, so a
 * `StandardTestDispatcher` drives every policy, backoff and retry-after with virtual time.
 *
 * **Not** a scheduler that survives the process (use WorkManager or a [dev.spool.tasks.TaskQueue]
 * for that: start a sync in the job and [flushNow]), and not safe to run twice on one queue: one
 * sync per queue.
 *
 * @param queue the queue to upload.
 * @param uploader sends one batch.
 * @param deadLetters where events the server will never take are moved.
 * @param config batching, policy and retries.
 * @param online whether to upload now; the sync pauses while it is false. Always true by default.
 * @param flusher the flusher acknowledgements go through; by default the sync creates one with
 *   [FlusherConfig]'s defaults in its scope and closes it when it stops. A flusher passed in is
 *   flushed, not closed, when the sync stops.
 */
public class OfflineSync @JvmOverloads constructor(
    /** The queue this sync uploads. */
    public val queue: OfflineQueue,
    private val uploader: Uploader,
    private val deadLetters: DeadLetterSink,
    /** Batching, policy and retries. */
    public val config: SyncConfig = SyncConfig(),
    private val online: StateFlow<Boolean> = ALWAYS_ONLINE,
    private val flusher: SyncedRowFlusher? = null,
) : AutoCloseable {
    private val planner = BatchPlanner(config.maxBatchEvents, config.maxBatchBytes, config.eventSize)
    private val state = MutableStateFlow(SyncProgress())
    private val requests = Channel<Request>(Channel.UNLIMITED)
    private val stopSignal = CompletableDeferred<Unit>()
    private val closing = AtomicBoolean(false)
    private val started = AtomicBoolean(false)

    @Volatile
    private var job: Job? = null

    /** Counters and the current [SyncState], updated after every batch, for a UI. */
    public val progress: StateFlow<SyncProgress> = state.asStateFlow()

    private class Request(val waiter: CompletableDeferred<FlushResult>?)

    /**
     * Starts the loop in [scope] and returns its job; see the class documentation.
     *
     * @throws IllegalStateException if the sync was already started, or closed.
     */
    public fun start(scope: CoroutineScope): Job {
        check(!closing.get()) { "OfflineSync of queue '${queue.config.name}' is closed" }
        check(started.compareAndSet(false, true)) { "OfflineSync of queue '${queue.config.name}' is already started" }
        return scope.launch(CoroutineName("spool-sync-${queue.config.name}")) { run() }.also { job = it }
    }

    /**
     * Starts a flush now, whatever the policy, and returns what it did once it ended. If a flush
     * is running, this waits for the next one; during a backoff, for the retry that ends it; while
     * offline, until the device is online again.
     *
     * **Cancellation.** Cancelling the caller abandons the wait, not the flush.
     *
     * @throws IllegalStateException if the sync was not started, is closed, or stopped before
     *   the flush ran.
     */
    public suspend fun flushNow(): FlushResult {
        check(started.get()) { "OfflineSync of queue '${queue.config.name}' is not started" }
        check(!closing.get()) { "OfflineSync of queue '${queue.config.name}' is closed" }
        val waiter = CompletableDeferred<FlushResult>()
        if (requests.trySend(Request(waiter)).isFailure) throw stopped()
        return waiter.await()
    }

    /**
     * Stops the loop gently and returns at once: the batch being uploaded is finished and
     * applied, acknowledgements are flushed, and the job completes (see [join]). Waiting
     * [flushNow] callers get an [IllegalStateException]. Closing twice, or a sync never started,
     * is harmless.
     */
    override fun close() {
        if (!closing.compareAndSet(false, true)) return
        stopSignal.complete(Unit)
        if (!started.get()) state.update { it.with(state = SyncState.STOPPED) }
    }

    /** Suspends until the loop has stopped (after [close], or its scope was cancelled). */
    public suspend fun join() {
        job?.join()
    }

    private fun stopped() = IllegalStateException("OfflineSync of queue '${queue.config.name}' stopped before the flush ran")

    private suspend fun run(): Unit = coroutineScope {
        val acks = flusher ?: SyncedRowFlusher(queue, FlusherConfig(), this)
        val triggers = launch {
            config.policy.triggers(Context(acks)).collect { requests.trySend(Request(null)) }
        }
        try {
            loop(acks)
        } finally {
            triggers.cancel()
            requests.close()
            while (true) {
                val left = requests.tryReceive().getOrNull() ?: break
                left.waiter?.completeExceptionally(stopped())
            }
            withContext(NonCancellable) { finishAcks(acks) }
            state.update { it.with(state = SyncState.STOPPED) }
        }
    }

    private suspend fun loop(acks: SyncedRowFlusher) {
        var failures = 0
        var wait = Duration.ZERO
        while (!closing.get()) {
            val waiters = ArrayList<CompletableDeferred<FlushResult>>()
            if (failures > 0) {
                state.update { it.with(state = SyncState.BACKING_OFF) }
                if (withTimeoutOrNull(wait) { stopSignal.await() } != null) break
            } else {
                state.update { it.with(state = SyncState.IDLE) }
                val first = select<Request?> { requests.onReceive { it }; stopSignal.onAwait { null } } ?: break
                first.waiter?.let(waiters::add)
            }
            while (true) {
                val more = requests.tryReceive().getOrNull() ?: break
                more.waiter?.let(waiters::add)
            }
            val tally = try {
                flush(acks)
            } catch (t: Throwable) {
                val error = if (t is CancellationException) stopped() else t
                waiters.forEach { it.completeExceptionally(error) }
                throw t
            }
            val failure = tally.failure
            if (failure != null) {
                failures++
                wait = tally.retryAfter ?: config.retryPolicy.delay(failures, config.random)
                logger.debug("Flush of queue '{}' failed ({}); retrying in {}", queue.config.name, failure, wait)
            } else {
                failures = 0
            }
            val result = FlushResult(
                drained = tally.drained,
                failure = failure,
                retryIn = if (failure != null) wait else null,
                uploaded = tally.uploaded,
                duplicates = tally.duplicates,
                rejected = tally.rejected,
                deadLettered = tally.deadLettered,
                requests = tally.requests,
            )
            waiters.forEach { it.complete(result) }
        }
    }

    /** What one flush did so far. */
    private class Tally {
        var uploaded = 0
        var duplicates = 0
        var rejected = 0
        var deadLettered = 0
        var requests = 0
        var failure: String? = null
        var retryAfter: Duration? = null
        var drained = false
    }

    /** Uploads batch after batch until nothing is pending, a round fails, or the sync closes. */
    private suspend fun flush(acks: SyncedRowFlusher): Tally {
        val tally = Tally()
        while (!closing.get()) {
            if (!online.value) {
                state.update { it.with(state = SyncState.WAITING_FOR_NETWORK) }
                if (!awaitOnline()) break
            }
            state.update { it.with(state = SyncState.UPLOADING) }
            val candidates = try {
                queue.peek(config.maxBatchEvents)
            } catch (e: QueueStorageException) {
                tally.failure = "queue: ${e.message}"
                break
            }
            if (candidates.isEmpty()) {
                tally.drained = true
                break
            }
            val batch = planner.plan(candidates)
            val round = Round(config.maxRejections)
            send(batch, round)
            val applied = apply(batch, round, acks)
            val uploaded = if (applied) round.count(SyncStatus.SUCCESS) else 0
            val duplicates = if (applied) round.count(SyncStatus.DUPLICATE) else 0
            val rejected = if (applied) round.count(SyncStatus.REJECTED) else 0
            val dead = if (applied) round.deadLetters.size else 0
            if (!round.failed && !round.removesAny) round.failure = "no event of ${batch.size} was acknowledged"
            tally.uploaded += uploaded
            tally.duplicates += duplicates
            tally.rejected += rejected
            tally.deadLettered += dead
            tally.requests += round.requests
            state.update { p ->
                p.with(
                    uploaded = p.uploaded + uploaded,
                    duplicates = p.duplicates + duplicates,
                    rejected = p.rejected + rejected,
                    deadLettered = p.deadLettered + dead,
                    requests = p.requests + round.requests,
                    failedRounds = p.failedRounds + if (round.failed) 1 else 0,
                    lastError = round.failure ?: p.lastError,
                )
            }
            if (round.failed) {
                tally.failure = round.failure
                tally.retryAfter = round.retryAfter
                break
            }
        }
        return tally
    }

    /** Sends [batch], splitting it on [UploadOutcome.TooLarge], and gathers the verdicts in [round]. */
    private suspend fun send(batch: List<QueuedEvent>, round: Round) {
        round.requests++
        when (val outcome = upload(batch)) {
            is UploadOutcome.Results -> round.answered(batch, outcome)
            is UploadOutcome.Failed -> round.fail(outcome)
            UploadOutcome.TooLarge ->
                if (batch.size == 1) {
                    round.deadLetter(batch.single(), "too large for the server (HTTP 413 for this event alone)")
                } else {
                    val half = batch.size / 2
                    send(batch.subList(0, half), round)
                    // After a failure, don't push the second half into the same outage.
                    if (!round.failed) send(batch.subList(half, batch.size), round)
                }
        }
    }

    private suspend fun upload(batch: List<QueuedEvent>): UploadOutcome = try {
        withTimeoutOrNull(config.uploadTimeout) { uploader.upload(batch) }
            ?: UploadOutcome.Failed("upload timed out after ${config.uploadTimeout}")
    } catch (e: CancellationException) {
        currentCoroutineContext().ensureActive() // the sync itself is cancelled: stop
        UploadOutcome.Failed("upload cancelled: ${e.message}", cause = e) // the uploader's own timeout
    } catch (e: Exception) {
        logger.debug("Uploader threw; the batch is retried after a backoff", e)
        UploadOutcome.Failed("upload failed: $e", cause = e)
    }

    /**
     * Applies the verdicts gathered in [round], even those of a round that failed halfway (the
     * first half of a split batch): dead letters first, then the queue. Returns false, with the
     * round marked failed, if either write failed; then the queue is unchanged.
     */
    private suspend fun apply(batch: List<QueuedEvent>, round: Round, acks: SyncedRowFlusher): Boolean {
        try {
            if (round.deadLetters.isNotEmpty()) {
                deadLetters.write(round.deadLetters.toList())
                logger.warn(
                    "Dead-lettered {} events of queue '{}': {}",
                    round.deadLetters.size, queue.config.name, round.deadLetters.take(10),
                )
            }
        } catch (e: IOException) {
            round.failure = "dead-letter sink: ${e.message}"
            return false
        }
        val effective = round.results.filter { it.status != SyncStatus.FAILED_TRANSIENT }
        if (effective.isEmpty()) return true
        return try {
            acks.processBatchResults(effective, uploaded = batch)
            true
        } catch (e: QueueStorageException) {
            round.failure = "queue: ${e.message}"
            false
        }
    }

    private suspend fun awaitOnline(): Boolean = coroutineScope {
        val up = async { online.first { it } }
        select { up.onAwait { true }; stopSignal.onAwait { false } }.also { up.cancel() }
    }

    private suspend fun finishAcks(acks: SyncedRowFlusher) {
        try {
            if (flusher == null) acks.close() else acks.flush()
        } catch (e: Exception) {
            logger.warn("Could not flush the acknowledgements of queue '{}'; they are uploaded again after a restart", queue.config.name, e)
        }
    }

    private inner class Context(private val acks: SyncedRowFlusher) : FlushContext {
        override val pending: Flow<Int> = queue.sizes.map { (it - acks.pending).coerceAtLeast(0) }
        override val online: StateFlow<Boolean> get() = this@OfflineSync.online
    }

    override fun toString(): String = "OfflineSync(queue=${queue.config.name}, $config)"

    /** Factories for Java callers. */
    public companion object {
        private val logger = LoggerFactory.getLogger(OfflineSync::class.java)

        private val ALWAYS_ONLINE: StateFlow<Boolean> = MutableStateFlow(true).asStateFlow()

        /**
         * A sync for Java callers: [uploader] runs on [ioContext] and is interrupted when
         * cancelled; the loop runs in a scope the facade owns. Call
         * [BlockingOfflineSync.start].
         *
         * @param connectivity whether to upload now; always online if null.
         */
        @JvmStatic
        @JvmOverloads
        public fun createBlocking(
            queue: BlockingOfflineQueue,
            uploader: BlockingUploader,
            deadLetters: DeadLetterSink,
            config: SyncConfig = SyncConfig(),
            connectivity: Connectivity? = null,
            ioContext: CoroutineContext = Dispatchers.IO,
        ): BlockingOfflineSync {
            val suspending = Uploader { batch -> runInterruptible(ioContext) { uploader.upload(batch) } }
            val sync = OfflineSync(queue.queue, suspending, deadLetters, config, connectivity?.online ?: ALWAYS_ONLINE)
            return BlockingOfflineSync(sync)
        }
    }
}
