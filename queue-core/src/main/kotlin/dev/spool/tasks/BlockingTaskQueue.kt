package dev.spool.tasks

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.future.future
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import java.io.IOException
import java.io.InterruptedIOException
import java.time.Duration
import java.time.Instant
import java.util.concurrent.ExecutionException
import kotlin.time.toKotlinDuration

/**
 * A blocking view of a [TaskQueue] for Java callers: the same operations with the same semantics,
 * each blocking the calling thread until its write committed or its read returned. Task ids are
 * plain `long`s and durations are [java.time.Duration]s.
 *
 * Obtain one from [TaskQueue.blocking] or [openBlocking]. It shares the queue's writer, so blocking
 * and suspending callers are group-committed together. [TaskQueue.observe] has no blocking form;
 * [awaitFinal] covers the waiting use.
 *
 * **Threading.** Safe to call from any number of threads. Never call it from inside a coroutine.
 *
 * **Interruption.** Interrupting a blocked thread abandons the wait with an
 * [InterruptedIOException] and keeps the thread's interrupt flag set, as [dev.spool.queue.BlockingOfflineQueue]
 * does. As with cancellation, a write already taken by the writer may still commit. A [claim]
 * interrupted that way never orphans a lease: if it commits after all, the tasks it claimed are
 * released at once (attempt not counted).
 *
 * **Errors.** Failures to read or write the file are [dev.spool.storage.QueueStorageException]s,
 * which are [IOException]s; bad input is an [IllegalArgumentException]; use after close is an
 * [IllegalStateException].
 */
public class BlockingTaskQueue internal constructor(
    /** The suspending queue behind this facade. */
    @get:JvmName("suspending") public val queue: TaskQueue,
) : AutoCloseable {
    private val scope = CoroutineScope(SupervisorJob() + queue.config.readDispatcher)

    /** See [TaskQueue.config]. */
    public val config: TaskQueueConfig get() = queue.config

    /** See [TaskQueue.enqueue]; returns the task id. @throws IOException if the write fails. */
    @JvmOverloads
    @Throws(IOException::class)
    public fun enqueue(
        type: String,
        payload: String,
        priority: Int = 100,
        runAfter: Instant? = null,
        maxAttempts: Int = 5,
        idempotencyKey: String? = null,
        requires: Set<String> = emptySet(),
        unique: UniquePolicy = UniquePolicy.KEEP,
    ): Long = block { queue.enqueue(type, payload, priority, runAfter, maxAttempts, idempotencyKey, requires, unique).value }

    /**
     * See [TaskQueue.claim]. If the calling thread is interrupted while waiting, throws
     * [InterruptedIOException]; a claim that commits after all is released, never orphaned.
     *
     * @throws IOException if the write fails.
     */
    @JvmOverloads
    @Throws(IOException::class)
    public fun claim(
        workerId: String,
        capabilities: Set<String>,
        limit: Int,
        leaseTtl: Duration,
        strategy: ClaimStrategy = ClaimStrategy.PRIORITY,
        types: Set<String>? = null,
    ): List<Task> {
        val ttl = leaseTtl.toKotlinDuration()
        // Not cancelled by an interrupt: its outcome must be seen, so a committed claim is handed back.
        val claim = scope.future { queue.claim(workerId, capabilities, limit, ttl, strategy, types) }
        try {
            return claim.get()
        } catch (e: ExecutionException) {
            throw e.cause ?: e
        } catch (e: InterruptedException) {
            claim.whenComplete { tasks, _ ->
                tasks?.forEach { task -> task.lease?.let { lease -> scope.launch { runCatching { queue.release(lease) } } } }
            }
            Thread.currentThread().interrupt()
            throw InterruptedIOException("Interrupted while claiming; any claimed task is released").apply { initCause(e) }
        }
    }

    /** See [TaskQueue.registerWorker]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun registerWorker(workerId: String, capabilities: Set<String>, leaseTtl: Duration) {
        block { queue.registerWorker(workerId, capabilities, leaseTtl.toKotlinDuration()) }
    }

    /** See [TaskQueue.unregisterWorker]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun unregisterWorker(workerId: String): Int = block { queue.unregisterWorker(workerId) }

    /** See [TaskQueue.heartbeat]; returns the leases still held. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun heartbeat(workerId: String, leases: Collection<TaskLease>): Set<TaskLease> =
        block { queue.heartbeat(workerId, leases) }

    /** See [TaskQueue.renew]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun renew(lease: TaskLease, ttl: Duration): AckResult = block { queue.renew(lease, ttl.toKotlinDuration()) }

    /** See [TaskQueue.complete]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun complete(lease: TaskLease): AckResult = block { queue.complete(lease) }

    /** See [TaskQueue.fail]. @throws IOException if the write fails. */
    @JvmOverloads
    @Throws(IOException::class)
    public fun fail(lease: TaskLease, error: String, retryable: Boolean = true): AckResult =
        block { queue.fail(lease, error, retryable) }

    /** See [TaskQueue.release]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun release(lease: TaskLease): AckResult = block { queue.release(lease) }

    /** See [TaskQueue.cancel]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun cancel(taskId: Long): Boolean = block { queue.cancel(TaskId(taskId)) }

    /** See [TaskQueue.requeue]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun requeue(taskId: Long): Boolean = block { queue.requeue(TaskId(taskId)) }

    /** See [TaskQueue.sweep]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun sweep(): SweepResult = block { queue.sweep() }

    /** See [TaskQueue.purgeFinished]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun purgeFinished(before: Instant): Int = block { queue.purgeFinished(before) }

    /** See [TaskQueue.get]; null if there is no such task. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun get(taskId: Long): Task? = block { queue.get(TaskId(taskId)) }

    /** See [TaskQueue.list]; [cursor] is a raw id or null for the first page. @throws IOException if the read fails. */
    @JvmOverloads
    @Throws(IOException::class)
    public fun list(filter: TaskFilter = TaskFilter(), cursor: Long? = null): TaskPage =
        block { queue.list(filter, cursor?.let(::TaskId)) }

    /** See [TaskQueue.stats]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun stats(): TaskStats = block { queue.stats() }

    /** See [TaskQueue.taskLog]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun taskLog(taskId: Long): List<TaskTransition> = block { queue.taskLog(TaskId(taskId)) }

    /** See [TaskQueue.workers]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun workers(): List<WorkerInfo> = block { queue.workers() }

    /**
     * See [TaskQueue.awaitFinal]: waits at most [timeout] for task [taskId] to be final and returns
     * it; null if there is no such task or it is not final in time (read [get] to tell apart).
     *
     * @throws IOException if a read fails.
     */
    @Throws(IOException::class)
    public fun awaitFinal(taskId: Long, timeout: Duration): Task? =
        block { withTimeoutOrNull(timeout.toKotlinDuration()) { queue.awaitFinal(TaskId(taskId)) } }

    /** See [TaskQueue.schedule]. @throws IOException if the write fails. */
    @JvmOverloads
    @Throws(IOException::class)
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
    ): Schedule = block { queue.schedule(name, type, payload, recurrence, misfire, priority, maxAttempts, requires, startAt) }

    /** See [TaskQueue.schedules]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun schedules(): List<Schedule> = block { queue.schedules() }

    /** See [TaskQueue.pauseSchedule]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun pauseSchedule(name: String): Boolean = block { queue.pauseSchedule(name) }

    /** See [TaskQueue.resumeSchedule]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun resumeSchedule(name: String): Boolean = block { queue.resumeSchedule(name) }

    /** See [TaskQueue.deleteSchedule]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun deleteSchedule(name: String): Boolean = block { queue.deleteSchedule(name) }

    /** A [java.util.concurrent.CompletableFuture] view of the same queue. */
    public fun async(): AsyncTaskQueue = queue.async()

    /** Closes the queue behind this facade; see [TaskQueue.close]. */
    override fun close(): Unit = queue.close()

    private fun <T> block(body: suspend () -> T): T = try {
        runBlocking { body() }
    } catch (e: InterruptedException) {
        Thread.currentThread().interrupt()
        throw InterruptedIOException("Interrupted while waiting for the task queue").apply { initCause(e) }
    }

    /** Opening a queue from Java. */
    public companion object {
        /**
         * Opens the task queue at [path] and returns its blocking view.
         *
         * @throws dev.spool.storage.QueueStorageException as [TaskQueue.open] does.
         */
        @JvmStatic
        @JvmOverloads
        @Throws(IOException::class)
        public fun openBlocking(path: java.nio.file.Path, config: TaskQueueConfig = TaskQueueConfig()): BlockingTaskQueue =
            TaskQueue.open(path, config).blocking()
    }
}
