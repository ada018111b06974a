package dev.spool.sync

import dev.spool.queue.QueuedEvent

/**
 * Sends one batch of events to a server and says what became of it: the one piece of an upload
 * that [OfflineSync] cannot write for you (HTTP client, wire format, authentication).
 *
 * Expected failures are outcomes, not exceptions: a 5xx, a 429 or 503 with `Retry-After`, a
 * refused connection or a timeout is [UploadOutcome.Failed]; a 413 is [UploadOutcome.TooLarge];
 * a per-event answer is [UploadOutcome.Results]. If [upload] throws anyway, [OfflineSync] treats
 * the exception as a [UploadOutcome.Failed] of the whole batch and retries it later.
 *
 * **Threading.** Called by one [OfflineSync] at a time, never concurrently with itself, in the
 * sync's scope. Do blocking I/O on a dispatcher of your own (`withContext`), or use a suspending
 * client.
 *
 * **Cancellation.** When the sync's scope is cancelled, or [SyncConfig.uploadTimeout] passes, the
 * call is cancelled and the batch counts as not answered. The server may have stored it anyway,
 * so make it idempotent by event id (answer [dev.spool.queue.SyncStatus.DUPLICATE] for an id it
 * already has): delivery is at least once.
 */
public fun interface Uploader {
    /**
     * Uploads [batch], oldest first, and returns the outcome.
     *
     * @param batch at most [SyncConfig.maxBatchEvents] events, never empty.
     */
    public suspend fun upload(batch: List<QueuedEvent>): UploadOutcome
}
