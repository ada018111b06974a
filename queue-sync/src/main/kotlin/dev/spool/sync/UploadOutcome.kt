package dev.spool.sync

import dev.spool.queue.BatchEventResult
import dev.spool.queue.SyncStatus
import kotlin.time.Duration
import kotlin.time.toKotlinDuration

/**
 * What became of one batch upload, as an [Uploader] reports it.
 *
 * - [Results]: the server answered per event.
 * - [Failed]: the batch failed as a whole (a 5xx, 429, a dropped connection, a timeout) and is
 *   retried after a backoff, or after the server's `Retry-After` if it sent one.
 * - [TooLarge]: the server refused the batch for its size (HTTP 413). [OfflineSync] splits it in
 *   halves and sends each; a single event still too large is dead-lettered.
 */
public sealed interface UploadOutcome {
    /**
     * The server's verdict per event. An event of the batch without a verdict here was not
     * answered: it stays in the queue untouched, as [SyncStatus.FAILED_TRANSIENT]. Verdicts for
     * ids not in the batch are ignored.
     *
     * [SyncStatus.SUCCESS] and [SyncStatus.DUPLICATE] delete the event (through the flusher);
     * [SyncStatus.FAILED_PERMANENT] dead-letters it; [SyncStatus.REJECTED] adds one to its retry
     * count, and dead-letters it once it was rejected more than [SyncConfig.maxRejections] times.
     *
     * @property results the verdicts.
     */
    public class Results(public val results: List<BatchEventResult>) : UploadOutcome {
        override fun toString(): String = "Results(${results.size} verdicts)"
    }

    /**
     * The whole batch failed for reasons unrelated to its events; nothing in the queue changes.
     *
     * @property reason a short description, shown in [SyncProgress.lastError].
     * @property retryAfter the server's hint (`Retry-After`), or null. When set, the retry waits
     *   exactly this long instead of [SyncConfig.retryPolicy]'s backoff.
     * @property cause the exception behind the failure, if any.
     * @throws IllegalArgumentException if [retryAfter] is negative.
     */
    public class Failed @JvmOverloads constructor(
        public val reason: String,
        public val retryAfter: Duration? = null,
        public val cause: Throwable? = null,
    ) : UploadOutcome {
        init {
            require(retryAfter == null || !retryAfter.isNegative()) { "retryAfter must not be negative, was $retryAfter" }
        }

        override fun toString(): String = "Failed($reason" + (retryAfter?.let { ", retryAfter=$it" } ?: "") + ")"
    }

    /** The server refused the batch for its size (HTTP 413); see [UploadOutcome]. */
    public object TooLarge : UploadOutcome {
        override fun toString(): String = "TooLarge"
    }

    /** Factories for Java callers. */
    public companion object {
        /** [Results] of [results]. */
        @JvmStatic
        public fun results(results: List<BatchEventResult>): UploadOutcome = Results(results)

        /** A [Failed] whole batch, with no retry-after hint. */
        @JvmStatic
        public fun failed(reason: String): UploadOutcome = Failed(reason)

        /**
         * A [Failed] whole batch with the server's retry-after hint (null for none).
         *
         * @throws IllegalArgumentException if [retryAfter] is negative.
         */
        @JvmStatic
        public fun failed(reason: String, retryAfter: java.time.Duration?): UploadOutcome =
            Failed(reason, retryAfter?.toKotlinDuration())

        /** [TooLarge]. */
        @JvmStatic
        public fun tooLarge(): UploadOutcome = TooLarge
    }
}
