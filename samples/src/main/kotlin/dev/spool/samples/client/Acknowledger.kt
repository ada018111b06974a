package dev.spool.samples.client

import dev.spool.flusher.SyncedRowFlusher
import dev.spool.queue.BatchEventResult
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueuedEvent

/**
 * Where [SyncWorker] sends the server's verdicts: through a [SyncedRowFlusher] that batches the
 * deletes ([flusher], what the demo uses), or straight to the queue ([direct]).
 *
 * Both give the same outcome; the flusher saves one write transaction per batch acknowledged and
 * hides acknowledged rows from the next peek at once.
 */
public interface Acknowledger {
    /**
     * Applies [results] with [OfflineQueue.processBatchResults] semantics: SUCCESS, DUPLICATE and
     * FAILED_PERMANENT remove the row (at once or in a later batch), REJECTED adds a retry,
     * FAILED_TRANSIENT leaves it.
     *
     * @param uploaded the events as read for the upload, so a deletion can be pinned to the
     *   content that was uploaded (see [SyncedRowFlusher.processBatchResults]).
     * @throws dev.spool.storage.QueueStorageException if the queue cannot be written.
     * @throws IllegalStateException if the queue or the flusher is closed.
     */
    public suspend fun processBatchResults(results: Collection<BatchEventResult>, uploaded: Collection<QueuedEvent>)

    /**
     * Applies every deletion recorded so far, so the queue's size counts only unsynced rows.
     * A no-op when deletions are applied at once.
     *
     * @throws dev.spool.storage.QueueStorageException if the queue cannot be written.
     * @throws IllegalStateException if the queue or the flusher is closed.
     */
    public suspend fun flush()

    /** Factories. */
    public companion object {
        /** Routes verdicts through [flusher]: deletes are recorded at once and applied in batches. */
        public fun flusher(flusher: SyncedRowFlusher): Acknowledger = object : Acknowledger {
            override suspend fun processBatchResults(results: Collection<BatchEventResult>, uploaded: Collection<QueuedEvent>) =
                flusher.processBatchResults(results, uploaded)

            override suspend fun flush() {
                flusher.flush()
            }

            override fun toString(): String = "Acknowledger.flusher"
        }

        /** Applies every verdict at once, one transaction per batch. */
        public fun direct(queue: OfflineQueue): Acknowledger = object : Acknowledger {
            override suspend fun processBatchResults(results: Collection<BatchEventResult>, uploaded: Collection<QueuedEvent>) =
                queue.processBatchResults(results)

            override suspend fun flush() = Unit

            override fun toString(): String = "Acknowledger.direct"
        }
    }
}
