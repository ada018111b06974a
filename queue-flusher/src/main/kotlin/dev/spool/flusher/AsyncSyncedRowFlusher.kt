package dev.spool.flusher

import dev.spool.queue.BatchEventResult
import dev.spool.queue.QueuedEvent
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.future.future
import java.util.concurrent.CompletableFuture

/**
 * A [CompletableFuture] view of a [SyncedRowFlusher] for Java callers who must not block.
 *
 * Each method starts the operation and returns at once. The future completes when the operation
 * is done, on a thread of the queue's [dev.spool.queue.QueueConfig.readDispatcher], never on the
 * writer thread, and exceptionally with the exceptions documented on [SyncedRowFlusher].
 * Cancelling the future cancels the call with the semantics of coroutine cancellation: a delete
 * already taken by the writer may still commit.
 *
 * Close the flusher itself (or its [BlockingSyncedRowFlusher]) when done.
 */
public class AsyncSyncedRowFlusher internal constructor(
    /** The suspending flusher behind this facade. */
    @get:JvmName("suspending") public val flusher: SyncedRowFlusher,
) {
    private val scope = CoroutineScope(SupervisorJob() + flusher.queue.config.readDispatcher)

    /** See [SyncedRowFlusher.pending]. */
    public val pending: Int get() = flusher.pending

    /**
     * See [SyncedRowFlusher.markSynced]. Recording never waits for the disk, so the returned
     * future is already complete.
     */
    public fun markSynced(eventIds: Collection<String>): CompletableFuture<Void?> =
        completed { flusher.recordIds(eventIds) }

    /** See [SyncedRowFlusher.markEventsSynced]. The returned future is already complete. */
    public fun markEventsSynced(events: Collection<QueuedEvent>): CompletableFuture<Void?> =
        completed { flusher.recordEvents(events) }

    /** See [SyncedRowFlusher.processBatchResults], with no uploaded events. */
    public fun processBatchResults(results: Collection<BatchEventResult>): CompletableFuture<Void?> =
        scope.future {
            flusher.processBatchResults(results)
            null
        }

    /** See [SyncedRowFlusher.processBatchResults]. */
    public fun processBatchResults(
        results: Collection<BatchEventResult>,
        uploaded: Collection<QueuedEvent>,
    ): CompletableFuture<Void?> = scope.future {
        flusher.processBatchResults(results, uploaded)
        null
    }

    /** See [SyncedRowFlusher.flush]. */
    public fun flush(): CompletableFuture<Int> = scope.future { flusher.flush() }

    /** See [SyncedRowFlusher.unsyncedSize]. */
    public fun unsyncedSize(): CompletableFuture<Int> = scope.future { flusher.unsyncedSize() }

    private inline fun completed(body: () -> Unit): CompletableFuture<Void?> = try {
        body()
        CompletableFuture.completedFuture(null)
    } catch (e: Exception) {
        CompletableFuture.failedFuture(e)
    }
}
