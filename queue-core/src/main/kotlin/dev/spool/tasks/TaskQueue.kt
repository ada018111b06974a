package dev.spool.tasks

import dev.spool.storage.QueueStorageException
import dev.spool.tasks.internal.RealTaskQueue
import kotlinx.coroutines.flow.Flow
import java.nio.file.Path
import java.time.Instant
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * A durable work queue on one SQLite file: tasks are enqueued, claimed by workers under a lease,
 * and completed, retried with backoff, dead-lettered or cancelled.
 *
 * Every write goes through one writer coroutine that groups waiting writes into one
 * `BEGIN IMMEDIATE` transaction (the engine of [dev.spool.queue.OfflineQueue]); each call returns
 * once its transaction committed, so a returned [TaskId] or claim survives a crash of the process.
 * A claim is one `UPDATE … RETURNING` inside that transaction and returns exactly the rows it
 * changed, so no two claims, in this process or in another one on the same file, get the same
 * task while its lease is valid.
 *
 * **Leases.** A claimed task is [TaskState.LEASED] to one worker id until its lease expires. The
 * worker extends its leases with [heartbeat] (by the lease TTL it claimed with) or [renew], and
 * ends them with [complete], [fail] or [release]; each of these is refused with
 * [AckResult.LEASE_LOST] once the lease has expired or moved, so a stale worker cannot overwrite a
 * newer outcome. [sweep] puts tasks with expired leases, or held by workers that stopped
 * heartbeating, back in the queue and counts the attempt. A [TaskWorker] does all of this for you.
 *
 * **Time.** Every time is read from [TaskQueueConfig.clock] and stored as epoch milliseconds.
 *
 * **Threading.** Safe for concurrent use from any number of coroutines. Suspending functions are
 * cancellable; a write already taken by the writer may still commit after its caller was
 * cancelled. Use [blocking] or [async] from Java.
 *
 * **Not** a scheduler of recurring jobs, a distributed queue across machines (SQLite locking needs
 * one host), or an exactly-once executor: a worker that dies after finishing a task but before
 * [complete] committed makes the task run again once its lease expires, so handlers should be
 * idempotent.
 *
 * Errors: failures to read or write the file are [QueueStorageException]s; calls after [close]
 * throw [IllegalStateException].
 */
public interface TaskQueue : AutoCloseable {
    /** The configuration this queue was opened with. */
    public val config: TaskQueueConfig

    /**
     * Adds a task and returns its id once it is committed.
     *
     * With an [idempotencyKey] already used by a task in this file (in any state), nothing is
     * added and that task's id is returned. The check and the insert happen in one write
     * transaction, so concurrent enqueues with one key, from any process, yield one task.
     *
     * @param type what kind of work this is, 1 to 200 characters.
     * @param payload the task's input as JSON text, at most [TaskQueueConfig.maxPayloadBytes]
     *   UTF-8 bytes.
     * @param priority 0 (most urgent) to 1,000,000; see [ClaimStrategy].
     * @param runAfter the earliest time to claim it; null means now. Must be storable as epoch
     *   milliseconds ([Instant.MAX] is not).
     * @param maxAttempts how many claims it may have in all, at least 1.
     * @param idempotencyKey makes the enqueue happen at most once per key; not blank, at most 256
     *   characters.
     * @param requires capabilities a worker must all have to claim it: at most 100, each not blank
     *   and at most 200 characters.
     * @throws InvalidTaskArgumentException (an [IllegalArgumentException]) naming the field, on
     *   the caller's thread before anything reaches the writer, if [type] is blank or too long,
     *   [payload] is too large or not JSON, [priority] or [maxAttempts] is out of range,
     *   [runAfter] is outside the storable range, or a key or capability is blank or too long.
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun enqueue(
        type: String,
        payload: String,
        priority: Int = 100,
        runAfter: Instant? = null,
        maxAttempts: Int = 5,
        idempotencyKey: String? = null,
        requires: Set<String> = emptySet(),
    ): TaskId

    /**
     * Leases up to [limit] eligible tasks to [workerId] for [leaseTtl] and returns exactly those,
     * already [TaskState.LEASED], with their attempt counted. Empty when none is eligible.
     *
     * A task is eligible if it is [TaskState.QUEUED], its `runAfter` has passed, its type is in
     * [types] (when given) and its `requires` set is a subset of [capabilities]. [strategy] picks
     * among eligible tasks. The whole batch is one `UPDATE … RETURNING` in one transaction.
     *
     * The call also registers [workerId] (or refreshes it) with [capabilities] and [leaseTtl] in
     * the worker registry, so [heartbeat] knows its TTL.
     *
     * @param types the task types this worker can run; null accepts every type. A worker passes
     *   the types it has handlers for, so other types are never claimed by it.
     * @throws IllegalArgumentException if [workerId] is blank or over 256 characters, [limit] is
     *   below 1, [leaseTtl] is not positive, [types] is empty, or [types] or [capabilities] has
     *   more than 100 values or a blank or over-long (200 characters) one; an
     *   [InvalidTaskArgumentException] naming the field except for [limit].
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun claim(
        workerId: String,
        capabilities: Set<String> = emptySet(),
        limit: Int = 1,
        leaseTtl: Duration = 30.seconds,
        strategy: ClaimStrategy = ClaimStrategy.PRIORITY,
        types: Set<String>? = null,
    ): List<Task>

    /**
     * Adds [workerId] to the worker registry, or refreshes it, without claiming anything.
     *
     * @throws IllegalArgumentException if [workerId] is blank or [leaseTtl] is not positive.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun registerWorker(workerId: String, capabilities: Set<String>, leaseTtl: Duration)

    /**
     * Records that [workerId] is alive and extends each of its valid leases to now plus the lease
     * TTL it registered (or last claimed) with. Returns the ids of the tasks it still holds: a task
     * it runs that is missing was cancelled, reclaimed or expired, and it should stop working on it.
     * An unknown (or swept as stale) worker holds nothing and gets an empty set.
     *
     * @throws IllegalArgumentException if [workerId] is blank.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun heartbeat(workerId: String): Set<TaskId>

    /**
     * Extends the valid lease of task [taskId] to now plus [ttl]. If [workerId] is given, only if
     * that worker holds the lease. Returns false if there was no valid lease to extend.
     *
     * @throws IllegalArgumentException if [ttl] is not positive.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun renew(taskId: TaskId, ttl: Duration, workerId: String? = null): Boolean

    /**
     * Marks the task [TaskState.SUCCEEDED] if [workerId] holds its valid lease; otherwise refuses
     * with [AckResult.LEASE_LOST], [AckResult.CANCELLED] or [AckResult.NOT_FOUND] and changes
     * nothing.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun complete(taskId: TaskId, workerId: String): AckResult

    /**
     * Records a failed attempt if [workerId] holds the task's valid lease. With attempts left and
     * [retryable], the task is queued again after the backoff of its type's [RetryPolicy]
     * ([AckResult.RETRY_SCHEDULED]); otherwise it goes to [TaskState.DEAD_LETTER]
     * ([AckResult.DEAD_LETTERED]). [error] is kept as the task's last error either way. Refusals
     * are as for [complete].
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun fail(taskId: TaskId, workerId: String, error: String, retryable: Boolean = true): AckResult

    /**
     * Hands a leased task back unfinished: it is queued again at once and the attempt is not
     * counted ([AckResult.RELEASED]). Used by a worker that stops before finishing. Refusals are
     * as for [complete].
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun release(taskId: TaskId, workerId: String): AckResult

    /**
     * Cancels a [TaskState.QUEUED] or [TaskState.LEASED] task; returns false if the task is
     * missing or already final. A worker holding it learns of it from [transitions] (in this
     * process), from [heartbeat] (in any process), and from the [AckResult.CANCELLED] its ack gets.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun cancel(taskId: TaskId): Boolean

    /**
     * Removes workers that have not heartbeated within [TaskQueueConfig.staleWorkerTimeout] and
     * puts back every task whose lease expired or whose worker was removed, counting the attempt:
     * queued again after backoff if attempts are left, dead-lettered otherwise. A [TaskWorker] runs
     * it periodically; it is safe to run from any process at any time.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun sweep(): SweepResult

    /**
     * Removes [workerId] from the registry and releases its leased tasks without counting the
     * attempt. Returns how many tasks it released.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun unregisterWorker(workerId: String): Int

    /**
     * Deletes tasks in a final state ([TaskState.SUCCEEDED], [TaskState.DEAD_LETTER],
     * [TaskState.CANCELLED]) last changed before [before], with their [taskLog]; returns how many
     * tasks it deleted. Nothing else deletes tasks: call it periodically to bound the file. An
     * idempotency key of a deleted task may be used again.
     *
     * @throws InvalidTaskArgumentException if [before] is outside the storable range of epoch
     *   milliseconds ([Instant.MIN], say), on the caller's thread.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun purgeFinished(before: Instant): Int

    /**
     * The task [taskId] as stored now, or null if there is none.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun get(taskId: TaskId): Task?

    /**
     * One page of tasks matching [filter] in ascending id order, starting after [cursor].
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun list(filter: TaskFilter = TaskFilter(), cursor: TaskId? = null): TaskPage

    /**
     * Depth by type and state, age of the oldest queued task, success and failure counts and the
     * number of active workers, from one aggregate query. The answer is cached until the next
     * write through this queue or for [TaskQueueConfig.statsTtl], whichever comes first.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun stats(): TaskStats

    /**
     * Every state change of task [taskId], oldest first; empty if there is no such task.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun taskLog(taskId: TaskId): List<TaskTransition>

    /**
     * The worker registry, with stale workers flagged.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun workers(): List<WorkerInfo>

    /**
     * State changes committed through this queue, as they commit: a hot flow for in-process
     * listeners. It does not replay the past, does not see writes of other processes, and drops
     * the oldest changes for a subscriber more than 4,096 changes behind. Use [taskLog] for a
     * complete history.
     */
    public val transitions: Flow<TaskTransition>

    /** A blocking view of this queue for Java callers, sharing its writer. */
    public fun blocking(): BlockingTaskQueue

    /** A [java.util.concurrent.CompletableFuture] view of this queue for Java callers. */
    public fun async(): AsyncTaskQueue

    /**
     * Waits for accepted writes to commit, then closes the file. Later calls throw
     * [IllegalStateException]. Closing twice is harmless.
     */
    override fun close()

    /** Opening a queue. */
    public companion object {
        /**
         * Opens (creating if needed) the task queue in the SQLite file at [path].
         *
         * Give a task queue its own file. A file of an [dev.spool.queue.OfflineQueue] is refused,
         * and an OfflineQueue refuses a task-queue file: their schema versions never overlap.
         *
         * @throws QueueStorageException if the file cannot be opened, is not SQLite, belongs to an
         *   OfflineQueue or has a newer task-queue schema.
         */
        @JvmStatic
        @JvmOverloads
        public fun open(path: Path, config: TaskQueueConfig = TaskQueueConfig()): TaskQueue =
            RealTaskQueue.open(path, config)
    }
}
