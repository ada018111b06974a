package dev.spool.sync

import kotlin.time.Duration
import kotlin.time.toJavaDuration

/**
 * What one flush did, as [OfflineSync.flushNow] returns it: a value, whether the flush drained the
 * queue or stopped at a failure.
 *
 * @property drained true if the flush ended because nothing was left to upload.
 * @property failure why the flush stopped early, or null: a whole-batch failure, a round that
 *   removed nothing from the queue, or a queue or dead-letter write that failed. The sync retries
 *   on its own after [retryIn].
 * @property retryIn how long the sync waits before retrying after [failure]; null if it did not
 *   fail.
 * @property uploaded events stored by the server in this flush.
 * @property duplicates events the server already had.
 * @property rejected rejections.
 * @property deadLettered events dead-lettered.
 * @property requests calls to [Uploader.upload].
 */
public class FlushResult internal constructor(
    public val drained: Boolean,
    public val failure: String?,
    public val retryIn: Duration?,
    public val uploaded: Int,
    public val duplicates: Int,
    public val rejected: Int,
    public val deadLettered: Int,
    public val requests: Int,
) {
    /** [retryIn] as a [java.time.Duration], for Java callers; null if the flush did not fail. */
    public val javaRetryIn: java.time.Duration? get() = retryIn?.toJavaDuration()

    override fun toString(): String =
        "FlushResult(drained=$drained, failure=$failure, retryIn=$retryIn, uploaded=$uploaded, duplicates=$duplicates, " +
            "rejected=$rejected, deadLettered=$deadLettered, requests=$requests)"
}
