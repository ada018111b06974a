package dev.spool.queue

import dev.spool.storage.QueueStorageException

/**
 * Acknowledgements recorded in memory now and deleted later, in batches: the hook behind
 * `queue-flusher`'s `SyncedRowFlusher`. Obtain it from [OfflineQueue.deferredSync].
 *
 * A recorded row stays on disk, and in [OfflineQueue.size], until [flush] deletes it. Meanwhile:
 * - it is hidden from [OfflineQueue.peek] and [OfflineQueue.eventsBelowRetryCount] at once, so it
 *   is never handed to an uploader twice while the process lives;
 * - when [OfflineQueue.queueEvent] must evict, recorded rows are deleted first, in the same
 *   transaction, and only then the oldest unsynced rows;
 * - if the row is replaced or coalesced with newer content before it is flushed, the record is
 *   dropped: the newer content stays, visible, and is uploaded in turn.
 *
 * Records live in memory only. After a crash, recorded-but-unflushed rows are uploaded again:
 * delivery is at least once.
 *
 * All members are safe to call from any thread.
 */
public interface DeferredSync {
    /** How many rows are recorded and not yet deleted. */
    public val pending: Int

    /**
     * Records [eventIds] as synced, whatever content their rows hold now. Unknown ids are kept
     * until the next [flush], which deletes nothing for them.
     */
    public fun record(eventIds: Collection<String>)

    /**
     * Records [events] as synced, pinned to the [QueuedEvent.revision] that was read: if a row
     * was replaced or coalesced after that read, [flush] leaves it in place.
     */
    public fun recordEvents(events: Collection<QueuedEvent>)

    /**
     * Deletes every row recorded so far through the single writer, in one transaction, and
     * returns how many rows that removed: the statement's change count, never the number of ids.
     *
     * If the transaction fails, the records stay pending for the next call and the exception is
     * rethrown.
     *
     * @throws QueueStorageException if the delete could not be committed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun flush(): Int
}
