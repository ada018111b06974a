package dev.spool.queue

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.future.future
import java.nio.file.Path
import java.util.concurrent.CompletableFuture

/**
 * A [CompletableFuture] view of an [OfflineQueue] for Java callers who must not block.
 *
 * Each method starts the operation and returns at once. The future completes when the write has
 * committed (or the read returned), on a thread of [QueueConfig.readDispatcher], never on the
 * writer thread, so dependent stages cannot stall other writers. It completes exceptionally with
 * the exceptions documented on [OfflineQueue]. Cancelling the future cancels the call with the
 * semantics of coroutine cancellation: a write already taken by the writer may still commit.
 */
public class AsyncOfflineQueue internal constructor(
    /** The suspending queue behind this facade. */
    @get:JvmName("suspending") public val queue: OfflineQueue,
) {
    private val scope = CoroutineScope(SupervisorJob() + queue.config.readDispatcher)

    /** See [OfflineQueue.queueEvent]. */
    public fun queueEvent(event: QueueEvent): CompletableFuture<EnqueueResult> = scope.future { queue.queueEvent(event) }

    /** See [OfflineQueue.append], with [QueueConfig.strictCap]. */
    public fun append(event: QueueEvent): CompletableFuture<EnqueueResult> = scope.future { queue.append(event) }

    /** See [OfflineQueue.append]. */
    public fun append(event: QueueEvent, cap: Int): CompletableFuture<EnqueueResult> =
        scope.future { queue.append(event, cap) }

    /** See [OfflineQueue.size]: O(1), never touches the disk, so the future is already complete. */
    public fun size(): CompletableFuture<Int> = scope.future { queue.size() }

    /** See [OfflineQueue.sizeFromDisk]. */
    public fun sizeFromDisk(): CompletableFuture<Int> = scope.future { queue.sizeFromDisk() }

    /** See [OfflineQueue.peek]. */
    public fun peek(limit: Int): CompletableFuture<List<QueuedEvent>> = scope.future { queue.peek(limit) }

    /** See [OfflineQueue.peekPage]. */
    public fun peekPage(limit: Int, cursor: EventCursor?): CompletableFuture<EventPage> = scope.future { queue.peekPage(limit, cursor) }

    /** See [OfflineQueue.markSynced]. */
    public fun markSynced(eventIds: Collection<String>): CompletableFuture<Int> =
        scope.future { queue.markSynced(eventIds) }

    /** See [OfflineQueue.incrementRetry]. */
    public fun incrementRetry(eventIds: Collection<String>): CompletableFuture<Int> =
        scope.future { queue.incrementRetry(eventIds) }

    /** See [OfflineQueue.eventsBelowRetryCount]. */
    public fun eventsBelowRetryCount(maxRetries: Int, limit: Int): CompletableFuture<List<QueuedEvent>> =
        scope.future { queue.eventsBelowRetryCount(maxRetries, limit) }

    /** See [OfflineQueue.processBatchResults]. */
    public fun processBatchResults(results: Collection<BatchEventResult>): CompletableFuture<Void?> =
        scope.future {
            queue.processBatchResults(results)
            null
        }

    /** See [OfflineQueue.removeProjectEvents]. */
    public fun removeProjectEvents(projectId: String): CompletableFuture<Int> =
        scope.future { queue.removeProjectEvents(projectId) }

    /** See [OfflineQueue.clear]. */
    public fun clear(): CompletableFuture<Int> = scope.future { queue.clear() }

    /** See [OfflineQueue.drainToFile]. */
    public fun drainToFile(path: Path): CompletableFuture<Int> = scope.future { queue.drainToFile(path) }

    /** See [OfflineQueue.replayFile]. */
    public fun replayFile(path: Path): CompletableFuture<Int> = scope.future { queue.replayFile(path) }

    /** See [OfflineQueue.stats]. */
    public fun stats(): CompletableFuture<QueueStats> = scope.future { queue.stats() }
}
