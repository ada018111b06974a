package dev.spool.samples.client

import dev.spool.queue.BatchEventResult
import dev.spool.queue.OfflineQueue

/**
 * Where [SyncWorker] sends the server's verdicts: straight to the queue, or through a flusher
 * that batches the deletes.
 */
public interface Acknowledger {
    /**
     * Applies [results] with [OfflineQueue.processBatchResults] semantics: SUCCESS, DUPLICATE and
     * FAILED_PERMANENT remove the row (at once or later), REJECTED adds a retry, FAILED_TRANSIENT
     * leaves it.
     *
     * @throws dev.spool.queue.QueueStorageException if the queue cannot be written.
     */
    public suspend fun processBatchResults(results: Collection<BatchEventResult>)

    /**
     * Applies every deletion recorded so far, so the queue's size counts only unsynced rows.
     * A no-op when deletions are applied at once.
     *
     * @throws dev.spool.queue.QueueStorageException if the queue cannot be written.
     */
    public suspend fun flush()

    /** Factories. */
    public companion object {
        /** Applies every verdict at once, one transaction per batch. */
        public fun direct(queue: OfflineQueue): Acknowledger = object : Acknowledger {
            override suspend fun processBatchResults(results: Collection<BatchEventResult>) =
                queue.processBatchResults(results)

            override suspend fun flush() = Unit

            override fun toString(): String = "Acknowledger.direct"
        }
    }
}
