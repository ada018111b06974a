package dev.spool.sync

import dev.spool.queue.QueuedEvent

/**
 * An [Uploader] for Java callers: a plain blocking method, run on the I/O context of
 * [OfflineSync.createBlocking].
 *
 * Everything [Uploader] says holds, with one addition: when the upload is cancelled (the sync is
 * stopped, or [SyncConfig.uploadTimeout] passes) the calling thread is interrupted.
 */
public fun interface BlockingUploader {
    /**
     * Uploads [batch], oldest first, blocking until the server answered, and returns the outcome.
     *
     * @param batch at most [SyncConfig.maxBatchEvents] events, never empty.
     */
    @Throws(Exception::class)
    public fun upload(batch: List<QueuedEvent>): UploadOutcome
}
