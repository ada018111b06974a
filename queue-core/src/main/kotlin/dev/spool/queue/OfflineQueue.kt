package dev.spool.queue

import dev.spool.storage.Durability
import dev.spool.storage.QueueStorageException
import dev.spool.queue.internal.RealOfflineQueue
import kotlinx.coroutines.flow.StateFlow
import java.io.IOException
import java.nio.file.Path

/**
 * A durable FIFO of events waiting to be uploaded, stored in one SQLite file.
 *
 * Every write goes through a single writer coroutine that owns the SQLite connection and a
 * cached row count. Writes from all callers wait in a bounded buffer; the writer takes as many as
 * are waiting (up to [QueueConfig.maxBatchSize]) and commits them in one transaction, so many
 * concurrent callers share one commit. A suspend call returns only once the transaction holding
 * its write has committed with the configured [Durability]. If a group fails, its writes are
 * retried one by one so a bad one fails alone.
 *
 * A caller whose thread is blocked on the call anyway (the [blocking] facade, or a coroutine on
 * its own `runBlocking` loop) skips the hand-off when nothing else is writing: with the writer
 * idle and the buffer empty it commits its write on its own thread, still one writer at a time.
 * As soon as writes overlap they go through the buffer and share commits again. Callers on shared
 * dispatchers always hand their writes to the writer.
 *
 * The size cap is checked against the cached count, so enqueueing never scans the table. The
 * cache changes only when a transaction commits, and is re-read from disk only when
 * `PRAGMA data_version` says another connection wrote to the file.
 *
 * **Threading.** All members are safe to call from any thread or coroutine, concurrently. Reads
 * ([peek], [peekPage], [stats], [eventsBelowRetryCount], [sizeFromDisk]) use a separate read connection and
 * run on [QueueConfig.readDispatcher].
 *
 * **Cancellation.** Cancelling a caller while its write is still waiting in the buffer drops the
 * write. Once the writer has taken it into a transaction, the write may still commit even though
 * the caller sees [kotlinx.coroutines.CancellationException]. Either way the cached count always
 * equals what was committed.
 *
 * **Closing.** [close] lets every write already accepted commit, then closes the connections.
 * Any call after that throws [IllegalStateException]. Closing twice is harmless.
 *
 * **Not a work queue.** Rows have no leases or visibility timeouts; it is for one uploader per
 * queue. For work items with leases and retries, see `dev.spool.tasks`. Nor is it a message
 * broker: several instances may share a file, and the cap holds across them, but they do not
 * coordinate who uploads what.
 */
public interface OfflineQueue : AutoCloseable {
    /** The configuration this queue was opened with. */
    public val config: QueueConfig

    /** The number of rows in the queue after each commit, for a UI's pending badge. */
    public val sizes: StateFlow<Int>

    /** The deferred-deletion hook used by `queue-flusher`. */
    public val deferredSync: DeferredSync

    /**
     * Enqueues [event], evicting the oldest rows if the queue is at [QueueConfig.maxQueueSize].
     *
     * - A row with the same [QueueEvent.coalesceKey] is overwritten in place (eventId, payload,
     *   type, project and timestamp), keeping its retryCount; the count does not change and no cap
     *   check is made, so this works on a full queue.
     * - A row with the same [QueueEvent.eventId] gets the new payload and timestamp in place,
     *   keeping its retryCount; the count does not change.
     * - Otherwise a row is inserted. At the cap, the oldest rows (by timestamp, then insertion
     *   order) are evicted first, one SLF4J warning is logged, and [EnqueueResult.evicted] says how
     *   many. Afterwards the size is exactly [QueueConfig.maxQueueSize].
     *
     * @throws InvalidEventException if the eventId is blank or longer than 256 characters, the
     *   eventType is blank, projectId or coalesceKey is blank, or the payload is not JSON or is
     *   larger than [QueueConfig.maxPayloadBytes]. Nothing is stored.
     * @throws QueueStorageException if the write could not be committed. Nothing is stored.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun queueEvent(event: QueueEvent): EnqueueResult

    /**
     * Enqueues [event] under a strict cap: never evicts, throws instead.
     *
     * Coalescing works as in [queueEvent] and never throws. A new event, or a duplicate eventId,
     * throws [OfflineQueueFullException] when the queue already holds [cap] rows or more.
     *
     * @throws OfflineQueueFullException if the queue is at [cap]. Nothing is stored.
     * @throws InvalidEventException as for [queueEvent], and if [cap] is not positive.
     * @throws QueueStorageException if the write could not be committed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun append(event: QueueEvent, cap: Int = config.strictCap): EnqueueResult

    /** The number of rows, from the cache: O(1), no table scan. */
    public suspend fun size(): Int

    /**
     * The number of rows by `SELECT COUNT(*)`: the truth on disk, for invariant checks.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun sizeFromDisk(): Int

    /**
     * Up to [limit] of the oldest rows, oldest first. Deletes nothing. Rows recorded in
     * [deferredSync] are left out.
     *
     * @throws IllegalArgumentException if [limit] is negative.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun peek(limit: Int = 1000): List<QueuedEvent>

    /**
     * One page of the queue in FIFO order, starting after [cursor] (from the first row when
     * null), for paging through a large queue, as [dev.spool.tasks.TaskQueue.list] pages tasks.
     * Deletes nothing; rows recorded in [deferredSync] are left out, as by [peek].
     *
     * The cursor is a position, not an offset: rows deleted meanwhile (acknowledged, evicted)
     * shift nothing, and rows appended meanwhile come after every earlier position, so paging
     * while the queue is written returns each row that is still there once, in order. A row whose
     * content is replaced or coalesced moves to the end of the order (its timestamp is new) and
     * is met again if the paging has passed it; rows written with an old timestamp by
     * [replayFile] after the paging passed that time are not met. Each page costs an index
     * lookup and `limit` rows, however long the queue.
     *
     * @throws IllegalArgumentException if [limit] is below 1.
     * @throws QueueStorageException if the read failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun peekPage(limit: Int = 100, cursor: EventCursor? = null): EventPage

    /**
     * Deletes the rows with these eventIds and returns how many were deleted. Unknown ids are
     * ignored; an empty collection is a no-op that returns 0.
     *
     * @throws QueueStorageException if the delete could not be committed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun markSynced(eventIds: Collection<String>): Int

    /**
     * Adds 1 to the retryCount of the rows with these eventIds and returns how many rows changed.
     *
     * @throws QueueStorageException if the update could not be committed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun incrementRetry(eventIds: Collection<String>): Int

    /**
     * Up to [limit] of the oldest rows whose retryCount is below [maxRetries], oldest first.
     *
     * @throws IllegalArgumentException if [limit] is negative.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun eventsBelowRetryCount(maxRetries: Int, limit: Int = 1000): List<QueuedEvent>

    /**
     * Applies the server's verdicts in one transaction, all or nothing: SUCCESS, DUPLICATE and
     * FAILED_PERMANENT delete their rows, REJECTED adds 1 to retryCount, FAILED_TRANSIENT leaves
     * the row untouched (see [SyncStatus]). Unknown ids are ignored.
     *
     * @throws QueueStorageException if the transaction could not be committed; nothing changed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun processBatchResults(results: Collection<BatchEventResult>)

    /**
     * Deletes every row of [projectId] and returns how many. Uses the project index, not the JSON.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun removeProjectEvents(projectId: String): Int

    /**
     * Deletes every row and returns how many.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun clear(): Int

    /**
     * Moves every row to [path] as JSON Lines, oldest first, and returns how many.
     *
     * Each line is an object with `event_id`, `event_type`, `project_id`, `coalesce_key`,
     * `timestamp` (epoch milliseconds), `retry_count` and `payload` (the payload as embedded JSON).
     * The file is written to a temporary sibling, forced to disk and atomically moved onto [path]
     * (replacing it); only then are exactly the exported rows deleted, in the same write
     * transaction, so no write can slip in between. If writing fails the queue is untouched. If
     * the process dies after the move but before the commit, the rows are both in the file and
     * in the queue: at least once, never lost. Replay the file with [replayFile].
     *
     * @throws IllegalArgumentException if [path] is the database file of a queue open in this
     *   JVM (this queue's own file included) or its `-wal`, `-shm` or `-journal` file.
     * @throws IOException if the file cannot be written; the queue is untouched.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun drainToFile(path: Path): Int

    /**
     * Enqueues every event of a file written by [drainToFile], in file order, keeping their
     * eventIds, timestamps and retry counts, and returns how many lines were read. Events follow
     * [queueEvent]'s rules (replacing, coalescing, evicting at the cap), all in one transaction.
     *
     * @throws InvalidEventException if a line is not a valid event; nothing is stored.
     * @throws IOException if the file cannot be read.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun replayFile(path: Path): Int

    /**
     * A snapshot of the queue; see [QueueStats].
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun stats(): QueueStats

    /** A blocking facade over this queue for Java callers. It shares this queue's state. */
    public fun blocking(): BlockingOfflineQueue

    /** A [java.util.concurrent.CompletableFuture] facade over this queue for Java callers. */
    public fun async(): AsyncOfflineQueue

    /**
     * Lets every accepted write commit, then closes the connections and the writer thread.
     * Blocks until done. Safe to call twice.
     */
    override fun close()

    /** Opens queues. */
    public companion object {
        /**
         * Opens (creating if needed) the queue stored at [path], creating parent directories and
         * the schema. A database written by Spool's Python ancestor is migrated in place.
         *
         * @throws QueueStorageException if the file is not a SQLite database, is corrupt, or
         *   cannot be opened. The file is left as it was.
         */
        @JvmStatic
        @JvmOverloads
        @Throws(IOException::class)
        public fun open(path: Path, config: QueueConfig = QueueConfig()): OfflineQueue =
            RealOfflineQueue.open(path, config)

        /**
         * Opens the queue at [path] and returns its blocking facade; see [open].
         *
         * @throws QueueStorageException as for [open].
         */
        @JvmStatic
        @JvmOverloads
        @Throws(IOException::class)
        public fun openBlocking(path: Path, config: QueueConfig = QueueConfig()): BlockingOfflineQueue =
            open(path, config).blocking()
    }
}
