package dev.spool.sync

/**
 * What an [OfflineSync] has done since it was created, for a progress display. Counts are events
 * unless named otherwise; each is updated after every batch.
 *
 * @property state what the sync is doing now.
 * @property uploaded events the server stored ([dev.spool.queue.SyncStatus.SUCCESS]).
 * @property duplicates events the server already had ([dev.spool.queue.SyncStatus.DUPLICATE]):
 *   redeliveries.
 * @property rejected rejections ([dev.spool.queue.SyncStatus.REJECTED]); an event rejected twice
 *   counts twice.
 * @property deadLettered events written to the dead-letter sink and removed from the queue.
 * @property requests calls to [Uploader.upload], retries and halves included.
 * @property failedRounds rounds that failed and were (or will be) retried after a backoff.
 * @property lastError the latest failure, for display; null if there was none.
 */
public class SyncProgress(
    public val state: SyncState = SyncState.IDLE,
    public val uploaded: Int = 0,
    public val duplicates: Int = 0,
    public val rejected: Int = 0,
    public val deadLettered: Int = 0,
    public val requests: Int = 0,
    public val failedRounds: Int = 0,
    public val lastError: String? = null,
) {
    internal fun with(
        state: SyncState = this.state,
        uploaded: Int = this.uploaded,
        duplicates: Int = this.duplicates,
        rejected: Int = this.rejected,
        deadLettered: Int = this.deadLettered,
        requests: Int = this.requests,
        failedRounds: Int = this.failedRounds,
        lastError: String? = this.lastError,
    ): SyncProgress = SyncProgress(state, uploaded, duplicates, rejected, deadLettered, requests, failedRounds, lastError)

    private fun parts(): List<Any?> = listOf(state, uploaded, duplicates, rejected, deadLettered, requests, failedRounds, lastError)

    override fun equals(other: Any?): Boolean = other is SyncProgress && parts() == other.parts()

    override fun hashCode(): Int = parts().hashCode()

    override fun toString(): String =
        "SyncProgress(state=$state, uploaded=$uploaded, duplicates=$duplicates, rejected=$rejected, " +
            "deadLettered=$deadLettered, requests=$requests, failedRounds=$failedRounds, lastError=$lastError)"
}
