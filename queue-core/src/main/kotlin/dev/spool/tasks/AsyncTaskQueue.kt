package dev.spool.tasks

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.future.future
import java.time.Duration
import java.time.Instant
import java.util.concurrent.CompletableFuture
import kotlin.time.toKotlinDuration

/**
 * A [CompletableFuture] view of a [TaskQueue] for Java callers who must not block.
 *
 * Each method starts the operation and returns at once. The future completes when the write has
 * committed (or the read returned), on a thread of [TaskQueueConfig.readDispatcher], never on the
 * writer thread, so dependent stages cannot stall other writers. It completes exceptionally with
 * the exceptions documented on [TaskQueue]. Cancelling the future cancels the call with the
 * semantics of coroutine cancellation: a write already taken by the writer may still commit.
 *
 * The constructor wraps any [TaskQueue] implementation (other backends return it from their
 * [TaskQueue.async]).
 */
public class AsyncTaskQueue(
    /** The suspending queue behind this facade. */
    @get:JvmName("suspending") public val queue: TaskQueue,
) {
    private val scope = CoroutineScope(SupervisorJob() + queue.config.readDispatcher)

    /** See [TaskQueue.enqueue]; completes with the task id. */
    @JvmOverloads
    public fun enqueue(
        type: String,
        payload: String,
        priority: Int = 100,
        runAfter: Instant? = null,
        maxAttempts: Int = 5,
        idempotencyKey: String? = null,
        requires: Set<String> = emptySet(),
    ): CompletableFuture<Long> =
        scope.future { queue.enqueue(type, payload, priority, runAfter, maxAttempts, idempotencyKey, requires).value }

    /** See [TaskQueue.claim]. */
    @JvmOverloads
    public fun claim(
        workerId: String,
        capabilities: Set<String>,
        limit: Int,
        leaseTtl: Duration,
        strategy: ClaimStrategy = ClaimStrategy.PRIORITY,
        types: Set<String>? = null,
    ): CompletableFuture<List<Task>> =
        scope.future { queue.claim(workerId, capabilities, limit, leaseTtl.toKotlinDuration(), strategy, types) }

    /** See [TaskQueue.heartbeat]; completes with the raw ids of the tasks still held. */
    public fun heartbeat(workerId: String): CompletableFuture<Set<Long>> =
        scope.future { queue.heartbeat(workerId).mapTo(LinkedHashSet()) { it.value } }

    /** See [TaskQueue.complete]. */
    public fun complete(taskId: Long, workerId: String): CompletableFuture<AckResult> =
        scope.future { queue.complete(TaskId(taskId), workerId) }

    /** See [TaskQueue.fail]. */
    @JvmOverloads
    public fun fail(taskId: Long, workerId: String, error: String, retryable: Boolean = true): CompletableFuture<AckResult> =
        scope.future { queue.fail(TaskId(taskId), workerId, error, retryable) }

    /** See [TaskQueue.release]. */
    public fun release(taskId: Long, workerId: String): CompletableFuture<AckResult> =
        scope.future { queue.release(TaskId(taskId), workerId) }

    /** See [TaskQueue.cancel]. */
    public fun cancel(taskId: Long): CompletableFuture<Boolean> = scope.future { queue.cancel(TaskId(taskId)) }

    /** See [TaskQueue.sweep]. */
    public fun sweep(): CompletableFuture<SweepResult> = scope.future { queue.sweep() }

    /** See [TaskQueue.get]; completes with null if there is no such task. */
    public fun get(taskId: Long): CompletableFuture<Task?> = scope.future { queue.get(TaskId(taskId)) }

    /** See [TaskQueue.stats]. */
    public fun stats(): CompletableFuture<TaskStats> = scope.future { queue.stats() }

    /** See [TaskQueue.taskLog]. */
    public fun taskLog(taskId: Long): CompletableFuture<List<TaskTransition>> = scope.future { queue.taskLog(TaskId(taskId)) }
}
