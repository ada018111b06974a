package dev.spool.tasks

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.future.future
import kotlinx.coroutines.withTimeoutOrNull
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
 * [TaskQueue.observe] has no future form; [awaitFinal] covers the waiting use.
 */
public class AsyncTaskQueue internal constructor(
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
        unique: UniquePolicy = UniquePolicy.KEEP,
    ): CompletableFuture<Long> =
        scope.future { queue.enqueue(type, payload, priority, runAfter, maxAttempts, idempotencyKey, requires, unique).value }

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

    /** See [TaskQueue.registerWorker]. */
    public fun registerWorker(workerId: String, capabilities: Set<String>, leaseTtl: Duration): CompletableFuture<Unit> =
        scope.future { queue.registerWorker(workerId, capabilities, leaseTtl.toKotlinDuration()) }

    /** See [TaskQueue.unregisterWorker]. */
    public fun unregisterWorker(workerId: String): CompletableFuture<Int> = scope.future { queue.unregisterWorker(workerId) }

    /** See [TaskQueue.heartbeat]; completes with the leases still held. */
    public fun heartbeat(workerId: String, leases: Collection<TaskLease>): CompletableFuture<Set<TaskLease>> =
        scope.future { queue.heartbeat(workerId, leases) }

    /** See [TaskQueue.renew]. */
    public fun renew(lease: TaskLease, ttl: Duration): CompletableFuture<AckResult> =
        scope.future { queue.renew(lease, ttl.toKotlinDuration()) }

    /** See [TaskQueue.complete]. */
    public fun complete(lease: TaskLease): CompletableFuture<AckResult> = scope.future { queue.complete(lease) }

    /** See [TaskQueue.fail]. */
    @JvmOverloads
    public fun fail(lease: TaskLease, error: String, retryable: Boolean = true): CompletableFuture<AckResult> =
        scope.future { queue.fail(lease, error, retryable) }

    /** See [TaskQueue.release]. */
    public fun release(lease: TaskLease): CompletableFuture<AckResult> = scope.future { queue.release(lease) }

    /** See [TaskQueue.cancel]. */
    public fun cancel(taskId: Long): CompletableFuture<Boolean> = scope.future { queue.cancel(TaskId(taskId)) }

    /** See [TaskQueue.requeue]. */
    public fun requeue(taskId: Long): CompletableFuture<Boolean> = scope.future { queue.requeue(TaskId(taskId)) }

    /** See [TaskQueue.sweep]. */
    public fun sweep(): CompletableFuture<SweepResult> = scope.future { queue.sweep() }

    /** See [TaskQueue.purgeFinished]. */
    public fun purgeFinished(before: Instant): CompletableFuture<Int> = scope.future { queue.purgeFinished(before) }

    /** See [TaskQueue.get]; completes with null if there is no such task. */
    public fun get(taskId: Long): CompletableFuture<Task?> = scope.future { queue.get(TaskId(taskId)) }

    /** See [TaskQueue.list]; [cursor] is a raw id or null for the first page. */
    @JvmOverloads
    public fun list(filter: TaskFilter = TaskFilter(), cursor: Long? = null): CompletableFuture<TaskPage> =
        scope.future { queue.list(filter, cursor?.let(::TaskId)) }

    /** See [TaskQueue.stats]. */
    public fun stats(): CompletableFuture<TaskStats> = scope.future { queue.stats() }

    /** See [TaskQueue.taskLog]. */
    public fun taskLog(taskId: Long): CompletableFuture<List<TaskTransition>> = scope.future { queue.taskLog(TaskId(taskId)) }

    /** See [TaskQueue.workers]. */
    public fun workers(): CompletableFuture<List<WorkerInfo>> = scope.future { queue.workers() }

    /**
     * See [TaskQueue.awaitFinal]: completes with task [taskId] once it is final, or with null if
     * there is no such task or it is not final within [timeout].
     */
    public fun awaitFinal(taskId: Long, timeout: Duration): CompletableFuture<Task?> =
        scope.future { withTimeoutOrNull(timeout.toKotlinDuration()) { queue.awaitFinal(TaskId(taskId)) } }

    /** See [TaskQueue.schedule]. */
    @JvmOverloads
    public fun schedule(
        name: String,
        type: String,
        payload: String,
        recurrence: Recurrence,
        misfire: MisfirePolicy = MisfirePolicy.RUN_ONCE,
        priority: Int = 100,
        maxAttempts: Int = 5,
        requires: Set<String> = emptySet(),
        startAt: Instant? = null,
    ): CompletableFuture<Schedule> =
        scope.future { queue.schedule(name, type, payload, recurrence, misfire, priority, maxAttempts, requires, startAt) }

    /** See [TaskQueue.schedules]. */
    public fun schedules(): CompletableFuture<List<Schedule>> = scope.future { queue.schedules() }

    /** See [TaskQueue.pauseSchedule]. */
    public fun pauseSchedule(name: String): CompletableFuture<Boolean> = scope.future { queue.pauseSchedule(name) }

    /** See [TaskQueue.resumeSchedule]. */
    public fun resumeSchedule(name: String): CompletableFuture<Boolean> = scope.future { queue.resumeSchedule(name) }

    /** See [TaskQueue.deleteSchedule]. */
    public fun deleteSchedule(name: String): CompletableFuture<Boolean> = scope.future { queue.deleteSchedule(name) }
}
