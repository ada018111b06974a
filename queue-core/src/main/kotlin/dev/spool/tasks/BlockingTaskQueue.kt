package dev.spool.tasks

import kotlinx.coroutines.runBlocking
import java.time.Duration
import java.time.Instant
import kotlin.time.toKotlinDuration

/**
 * A blocking view of a [TaskQueue] for Java callers: the same operations with the same semantics,
 * each blocking the calling thread until its write committed or its read returned. Task ids are
 * plain `long`s and durations are [java.time.Duration]s.
 *
 * Obtain one from [TaskQueue.blocking] or [openBlocking]. It shares the queue's writer, so blocking
 * and suspending callers are group-committed together. The constructor wraps any [TaskQueue]
 * implementation (other backends return it from their [TaskQueue.blocking]).
 *
 * **Threading.** Safe to call from any number of threads. Never call it from inside a coroutine.
 *
 * Errors are those documented on [TaskQueue]: [dev.spool.storage.QueueStorageException] for storage
 * failures, [IllegalArgumentException] for bad input, [IllegalStateException] after close.
 */
public class BlockingTaskQueue(
    /** The suspending queue behind this facade. */
    @get:JvmName("suspending") public val queue: TaskQueue,
) : AutoCloseable {
    /** See [TaskQueue.enqueue]; returns the task id. */
    @JvmOverloads
    public fun enqueue(
        type: String,
        payload: String,
        priority: Int = 100,
        runAfter: Instant? = null,
        maxAttempts: Int = 5,
        idempotencyKey: String? = null,
        requires: Set<String> = emptySet(),
    ): Long = runBlocking { queue.enqueue(type, payload, priority, runAfter, maxAttempts, idempotencyKey, requires).value }

    /** See [TaskQueue.claim]. */
    @JvmOverloads
    public fun claim(
        workerId: String,
        capabilities: Set<String>,
        limit: Int,
        leaseTtl: Duration,
        strategy: ClaimStrategy = ClaimStrategy.PRIORITY,
        types: Set<String>? = null,
    ): List<Task> = runBlocking { queue.claim(workerId, capabilities, limit, leaseTtl.toKotlinDuration(), strategy, types) }

    /** See [TaskQueue.heartbeat]; returns the raw ids of the tasks still held. */
    public fun heartbeat(workerId: String): Set<Long> = runBlocking { queue.heartbeat(workerId).mapTo(LinkedHashSet()) { it.value } }

    /** See [TaskQueue.renew]. */
    @JvmOverloads
    public fun renew(taskId: Long, ttl: Duration, workerId: String? = null): Boolean =
        runBlocking { queue.renew(TaskId(taskId), ttl.toKotlinDuration(), workerId) }

    /** See [TaskQueue.complete]. */
    public fun complete(taskId: Long, workerId: String): AckResult = runBlocking { queue.complete(TaskId(taskId), workerId) }

    /** See [TaskQueue.fail]. */
    @JvmOverloads
    public fun fail(taskId: Long, workerId: String, error: String, retryable: Boolean = true): AckResult =
        runBlocking { queue.fail(TaskId(taskId), workerId, error, retryable) }

    /** See [TaskQueue.release]. */
    public fun release(taskId: Long, workerId: String): AckResult = runBlocking { queue.release(TaskId(taskId), workerId) }

    /** See [TaskQueue.cancel]. */
    public fun cancel(taskId: Long): Boolean = runBlocking { queue.cancel(TaskId(taskId)) }

    /** See [TaskQueue.sweep]. */
    public fun sweep(): SweepResult = runBlocking { queue.sweep() }

    /** See [TaskQueue.purgeFinished]. */
    public fun purgeFinished(before: Instant): Int = runBlocking { queue.purgeFinished(before) }

    /** See [TaskQueue.get]; null if there is no such task. */
    public fun get(taskId: Long): Task? = runBlocking { queue.get(TaskId(taskId)) }

    /** See [TaskQueue.list]; [cursor] is a raw id or null for the first page. */
    @JvmOverloads
    public fun list(filter: TaskFilter = TaskFilter(), cursor: Long? = null): TaskPage =
        runBlocking { queue.list(filter, cursor?.let(::TaskId)) }

    /** See [TaskQueue.stats]. */
    public fun stats(): TaskStats = runBlocking { queue.stats() }

    /** See [TaskQueue.taskLog]. */
    public fun taskLog(taskId: Long): List<TaskTransition> = runBlocking { queue.taskLog(TaskId(taskId)) }

    /** See [TaskQueue.workers]. */
    public fun workers(): List<WorkerInfo> = runBlocking { queue.workers() }

    /** Closes the queue behind this facade; see [TaskQueue.close]. */
    override fun close(): Unit = queue.close()

    /** Opening a queue from Java. */
    public companion object {
        /**
         * Opens the task queue at [path] and returns its blocking view.
         *
         * @throws dev.spool.storage.QueueStorageException as [TaskQueue.open] does.
         */
        @JvmStatic
        @JvmOverloads
        public fun openBlocking(path: java.nio.file.Path, config: TaskQueueConfig = TaskQueueConfig()): BlockingTaskQueue =
            TaskQueue.open(path, config).blocking()
    }
}
