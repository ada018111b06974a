package dev.spool.flusher

import dev.spool.flusher.internal.FailureLog
import dev.spool.flusher.internal.FlushLoop
import dev.spool.queue.BatchEventResult
import dev.spool.queue.BlockingOfflineQueue
import dev.spool.queue.OfflineQueue
import dev.spool.storage.QueueStorageException
import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.slf4j.LoggerFactory
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.coroutines.CoroutineContext

/**
 * Records the server's acknowledgements at once and deletes the acknowledged rows later, in
 * batches, through the queue's single writer.
 *
 * Deleting each acknowledged row the moment its acknowledgement arrives costs one write
 * transaction per acknowledgement. A flusher records the ids in memory instead (in the queue's
 * [OfflineQueue.deferredSync]) and deletes them together:
 * - **Hidden at once.** A recorded row is left out of [OfflineQueue.peek] and
 *   [OfflineQueue.eventsBelowRetryCount] as soon as [markSynced] returns, so it is never handed to
 *   the uploader twice while the process lives.
 * - **Batched deletes.** A batch fires when [FlusherConfig.maxBatch] ids are pending, or
 *   [FlusherConfig.maxDelay] after the first pending id, whichever comes first. A batch is one
 *   transaction on the queue's writer, and the queue's count drops by exactly the number of rows
 *   the DELETE removed (its change count), never by the number of ids asked for.
 * - **Counting.** A recorded row stays on disk, and in [OfflineQueue.size], until its batch is
 *   deleted. After every [flush], `queue.size() == queue.sizeFromDisk()`. [unsyncedSize] is the
 *   count without the recorded rows.
 * - **Eviction.** When [OfflineQueue.queueEvent] must evict, the recorded rows are deleted first,
 *   in the same transaction, and only then the oldest unsynced rows. An unsynced event is never
 *   evicted while a synced one is still on disk.
 * - **Newer content wins.** If a recorded row is replaced (same eventId) or coalesced (same
 *   coalesceKey) before its batch is deleted, the record is dropped: the newer content stays,
 *   visible, and is uploaded in turn. An id passed to [markSynced] covers the content its row holds
 *   when the id is recorded. To cover exactly the content that was uploaded, even if the row
 *   changed between the read and the acknowledgement, pass the [QueuedEvent]s that were read to
 *   [markEventsSynced] or to [processBatchResults]: a row whose
 *   [revision][QueuedEvent.revision] changed is then left alone.
 *
 * **Delivery is at least once.** Records live in memory only. If the process dies before a batch
 * is deleted, its rows are still on disk and are uploaded again after the restart, so the server
 * should treat eventIds as idempotency keys (and answer [SyncStatus.DUPLICATE]).
 *
 * **Scope and threading.** The batching timer is one coroutine launched in `scope`, a child of
 * its job. It only waits: the deletes run on the queue's writer thread, so `scope` may use any
 * dispatcher, including a `StandardTestDispatcher` whose virtual time then drives
 * [FlusherConfig.maxDelay] (in `runTest`, pass `backgroundScope`, or close the flusher before the
 * test ends: the timer runs until [close]). A failed flush never cancels that coroutine nor the
 * scope; [close] ends it. If the scope is cancelled first, batches stop firing on their own but [flush] and
 * [close] still delete everything (they run in their caller). All members are safe to call from
 * any thread.
 *
 * **Errors.** A background flush that fails (disk full, database locked, queue closed) is passed
 * to [FlusherConfig.errorHandler] and kept: the next [flush] or [close] does its own work, then
 * throws it. The ids of a failed flush stay pending (and hidden); the next batch, [flush] or
 * [close] tries them again.
 *
 * **Closing.** Close the flusher before the queue: [close] deletes everything recorded, then
 * stops. If the queue is closed first, nothing hangs: flushes fail with [IllegalStateException]
 * (reported as above, and thrown by [close] if ids were still pending), and the rows that were
 * recorded but not deleted are uploaded again the next time the queue is opened.
 *
 * **Not** a delivery tracker: it does not remember what was uploaded, retry uploads, or survive a
 * restart. Use one flusher per queue: every flusher of a queue shares the queue's records.
 *
 * @param queue the queue whose acknowledged rows this flusher deletes.
 * @param config when batches fire and where background failures go.
 * @param scope where the batching timer runs; see above.
 */
public class SyncedRowFlusher private constructor(
    /** The queue whose acknowledged rows this flusher deletes. */
    public val queue: OfflineQueue,
    /** When batches fire and where background failures go. */
    public val config: FlusherConfig,
    scope: CoroutineScope,
    private val ownedScope: CoroutineScope?,
) : AutoCloseable {

    /**
     * A flusher for [queue] whose batching timer runs in [scope]. See the class documentation.
     */
    public constructor(
        queue: OfflineQueue,
        config: FlusherConfig = FlusherConfig(),
        scope: CoroutineScope,
    ) : this(queue, config, scope, ownedScope = null)

    private val ledger = queue.deferredSync
    private val closed = AtomicBoolean(false)
    private val failures = FailureLog()
    private val loop = FlushLoop(config.maxBatch, config.maxDelay, { ledger.pending }, ::backgroundFlush)
    private val timer: Job = scope.launch(CoroutineName("spool-flusher-${queue.config.name}")) { loop.run() }

    /**
     * How many acknowledgements are recorded and not yet deleted, whoever recorded them on this
     * queue. It counts ids, including ids whose rows are already gone or were rewritten meanwhile:
     * those delete nothing when flushed.
     */
    public val pending: Int get() = ledger.pending

    /**
     * Records [eventIds] as synced and returns at once, without waiting for the disk.
     *
     * Their rows are hidden from reads from now on and are deleted by a later batch, [flush] or
     * [close]. Each id covers the content its row holds now: a row replaced or coalesced after
     * this call keeps its newer content (see the class documentation). Unknown ids are ignored
     * (they delete nothing), and so is an empty collection.
     *
     * @throws IllegalStateException if this flusher is closed.
     */
    public suspend fun markSynced(eventIds: Collection<String>) {
        recordIds(eventIds)
    }

    /**
     * Records [events], as they were read and uploaded, as synced, and returns at once.
     *
     * Like [markSynced], but each acknowledgement is pinned to the [QueuedEvent.revision] that was
     * read: if the row was replaced or coalesced after that read, even before this call, it is
     * neither hidden nor deleted.
     *
     * @throws IllegalStateException if this flusher is closed.
     */
    public suspend fun markEventsSynced(events: Collection<QueuedEvent>) {
        recordEvents(events)
    }

    /**
     * Applies the server's verdicts: the deleting statuses ([SyncStatus.deletes]: SUCCESS,
     * DUPLICATE, FAILED_PERMANENT) are recorded in this flusher like [markSynced]; the others
     * (REJECTED, FAILED_TRANSIENT) are passed, alone, to [OfflineQueue.processBatchResults], which
     * keeps its semantics (REJECTED adds 1 to retryCount, FAILED_TRANSIENT changes nothing).
     *
     * The queue's part runs first and suspends until it committed. Only then are the deletions
     * recorded, so if it fails nothing was applied and the whole batch may be processed again.
     *
     * @param uploaded the events that were uploaded, as read. A deleting verdict for one of them
     *   is pinned to the revision that was read, as in [markEventsSynced]; other verdicts cover
     *   whatever content the row holds now, as in [markSynced].
     * @throws QueueStorageException if the queue's part could not be committed; nothing applied.
     * @throws IllegalStateException if this flusher, or the queue, is closed.
     */
    public suspend fun processBatchResults(
        results: Collection<BatchEventResult>,
        uploaded: Collection<QueuedEvent> = emptyList(),
    ) {
        checkOpen()
        val (deleting, kept) = results.partition { it.status.deletes }
        if (kept.isNotEmpty()) queue.processBatchResults(kept)
        if (deleting.isEmpty()) return
        val read = uploaded.associateBy { it.eventId }
        val (pinned, loose) = deleting.partition { it.eventId in read }
        ledger.recordEvents(pinned.map { read.getValue(it.eventId) })
        ledger.record(loose.map { it.eventId })
        loop.recorded()
    }

    /**
     * Deletes everything recorded so far, in one transaction on the queue's writer, and returns
     * how many rows this call deleted (the DELETE's change count). Afterwards
     * `queue.size() == queue.sizeFromDisk()`. With nothing pending it returns 0 without touching
     * the disk.
     *
     * This is a sync point: if a background flush failed since the previous [flush] or [close],
     * this call still deletes what it can, then throws that failure (later failures, including
     * its own, attached as [suppressed][Throwable.suppressed]). Whatever could not be deleted
     * stays pending.
     *
     * **Cancellation.** Cancelling the caller abandons the wait; the delete may still commit.
     *
     * @throws QueueStorageException if the delete, or an earlier background one, could not be
     *   committed.
     * @throws IllegalStateException if this flusher is closed, or the queue was closed while ids
     *   were pending.
     */
    public suspend fun flush(): Int {
        checkOpen()
        return syncPoint()
    }

    /**
     * The number of rows not yet acknowledged: `queue.size() - pending`, never negative.
     *
     * Exact when every pending id names a row on disk holding the acknowledged content; ids whose
     * rows are gone or rewritten still count in [pending], so otherwise this is a lower bound. It
     * reads the cached count, never the disk.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun unsyncedSize(): Int = (queue.size() - ledger.pending).coerceAtLeast(0)

    /** A blocking facade over this flusher for Java callers. It shares this flusher's state. */
    public fun blocking(): BlockingSyncedRowFlusher = BlockingSyncedRowFlusher(this)

    /** A [java.util.concurrent.CompletableFuture] facade over this flusher for Java callers. */
    public fun async(): AsyncSyncedRowFlusher = AsyncSyncedRowFlusher(this)

    /**
     * Deletes everything recorded, then stops the batching timer; blocks until the delete
     * committed. Closing twice is harmless. The queue stays open: close it after the flusher.
     *
     * The flusher is closed even if the final delete fails. The failure, or an earlier background
     * failure not yet thrown, is thrown here; ids not deleted are uploaded again after the queue
     * is reopened.
     *
     * @throws QueueStorageException if the final delete could not be committed.
     * @throws IllegalStateException if the queue was closed first while ids were still pending.
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        timer.cancel()
        try {
            runBlocking { syncPoint() }
        } finally {
            ownedScope?.cancel()
        }
    }

    // ---- Internals shared with the Java facades ----

    internal fun recordIds(eventIds: Collection<String>) {
        checkOpen()
        if (eventIds.isEmpty()) return
        ledger.record(eventIds)
        loop.recorded()
    }

    internal fun recordEvents(events: Collection<QueuedEvent>) {
        checkOpen()
        if (events.isEmpty()) return
        ledger.recordEvents(events)
        loop.recorded()
    }

    private fun checkOpen() {
        check(!closed.get()) { "SyncedRowFlusher of queue '${queue.config.name}' is closed" }
    }

    private suspend fun syncPoint(): Int {
        val deleted = try {
            flushPending()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Throwable) {
            failures.add(e)
            0
        }
        failures.take()?.let { throw it }
        return deleted
    }

    private suspend fun flushPending(): Int {
        val pending = ledger.pending
        if (pending == 0) return 0
        try {
            return ledger.flush()
        } catch (e: CancellationException) {
            throw e // A CancellationException is an IllegalStateException: never wrap it as a failure.
        } catch (e: IllegalStateException) {
            throw IllegalStateException(
                "Cannot delete $pending acknowledged rows: ${e.message}. Close the flusher before the queue; " +
                    "these rows stay on disk and will be uploaded again (delivery is at least once).",
                e,
            )
        }
    }

    private suspend fun backgroundFlush() {
        try {
            flushPending()
        } catch (e: CancellationException) {
            currentCoroutineContext().ensureActive() // Stopped by close(): not a failure.
            report(e)
        } catch (e: Throwable) {
            report(e)
        }
    }

    private fun report(error: Throwable) {
        failures.add(error)
        try {
            config.errorHandler.onError(error)
        } catch (t: Throwable) {
            logger.warn("FlushErrorHandler threw; ignored", t)
        }
    }

    /** Factories for callers without a [CoroutineScope], such as Java. */
    public companion object {
        private val logger = LoggerFactory.getLogger(SyncedRowFlusher::class.java)

        /**
         * A flusher for [queue] that owns its scope: a [SupervisorJob] on [context], cancelled by
         * [close]. The default, [Dispatchers.Default], is fine: the timer never blocks.
         */
        @JvmStatic
        @JvmOverloads
        public fun create(
            queue: OfflineQueue,
            config: FlusherConfig = FlusherConfig(),
            context: CoroutineContext = Dispatchers.Default,
        ): SyncedRowFlusher {
            val scope = CoroutineScope(context + SupervisorJob(context[Job]))
            return SyncedRowFlusher(queue, config, scope, ownedScope = scope)
        }

        /**
         * A blocking flusher for [queue] that owns its scope, as [create] with
         * [Dispatchers.Default].
         */
        @JvmStatic
        @JvmOverloads
        public fun createBlocking(
            queue: BlockingOfflineQueue,
            config: FlusherConfig = FlusherConfig(),
        ): BlockingSyncedRowFlusher = create(queue.queue, config).blocking()
    }
}
