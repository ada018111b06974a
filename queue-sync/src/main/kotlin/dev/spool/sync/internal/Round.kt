package dev.spool.sync.internal

import dev.spool.queue.BatchEventResult
import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import dev.spool.sync.DeadLetter
import dev.spool.sync.UploadOutcome
import kotlin.time.Duration

/**
 * The verdicts of one batch, gathered from one or more uploads (halves after a 413), before they
 * are applied: what to tell the queue, what to dead-letter, and whether the round failed.
 */
internal class Round(private val maxRejections: Int) {
    val results = ArrayList<BatchEventResult>()
    val deadLetters = ArrayList<DeadLetter>()
    var requests = 0
    var failure: String? = null
    var retryAfter: Duration? = null

    val failed: Boolean get() = failure != null

    fun count(status: SyncStatus): Int = results.count { it.status == status }

    /** True if applying this round removes at least one event from the queue. */
    val removesAny: Boolean get() = results.any { it.status.deletes }

    fun fail(outcome: UploadOutcome.Failed) {
        failure = outcome.reason
        retryAfter = outcome.retryAfter
    }

    fun deadLetter(event: QueuedEvent, reason: String) {
        deadLetters += DeadLetter(event, reason)
        results += BatchEventResult(event.eventId, SyncStatus.FAILED_PERMANENT, reason)
    }

    /** Maps a per-event answer onto [batch]: unanswered events are left alone. */
    fun answered(batch: List<QueuedEvent>, outcome: UploadOutcome.Results) {
        val verdicts = HashMap<String, BatchEventResult>()
        for (result in outcome.results) verdicts[result.eventId] = result
        for (event in batch) {
            val verdict = verdicts[event.eventId] ?: continue
            when (verdict.status) {
                SyncStatus.SUCCESS, SyncStatus.DUPLICATE -> results += verdict
                SyncStatus.FAILED_PERMANENT -> deadLetter(event, verdict.error ?: "refused permanently by the server")
                SyncStatus.REJECTED ->
                    if (event.retryCount >= maxRejections) {
                        deadLetter(event, "rejected ${event.retryCount + 1} times: ${verdict.error ?: "rejected"}")
                    } else {
                        results += verdict
                    }
                SyncStatus.FAILED_TRANSIENT -> Unit // the same as no answer: the row is left untouched
            }
        }
    }
}
