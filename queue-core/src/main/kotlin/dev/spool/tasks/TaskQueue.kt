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
 * **Leases.** A claim returns each task with a [TaskLease]: a receipt for that one claim, with a
 * fencing token that changes with every claim of the task. The worker extends its leases with
 * [heartbeat] (by the lease TTL it claimed with) or [renew], and ends them with [complete],
 * [fail] or [release], each taking the lease. Each of these is refused with
 * [AckResult.LEASE_LOST] unless that exact claim still holds a valid lease, so an acknowledgement
 * from an earlier attempt (even by the same worker id) never overwrites a newer outcome. [sweep]
 * puts tasks with expired leases, or held by workers that stopped heartbeating, back in the queue
 * and counts the attempt. A [TaskWorker] does all of this for you.
 *
 * **Unique work, schedules, observation.** [enqueue] takes an idempotency key and a
 * [UniquePolicy]; [schedule] keeps a durable recurring schedule that enqueues each fire time
 * exactly once across processes; [observe] and [awaitFinal] follow one task, including changes
 * made by other processes.
 *
 * **Time.** Every time is read from [TaskQueueConfig.clock] and stored as epoch milliseconds.
 *
 * **Threading.** Safe for concurrent use from any number of coroutines. Suspending functions are
 * cancellable; a write already taken by the writer may still commit after its caller was
 * cancelled. Use [blocking] or [async] from Java.
 *
 * **Not** a workflow engine (no dependencies between tasks), a distributed queue across machines (SQLite locking needs
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
     * With an [idempotencyKey] held by an existing task (see [UniquePolicy] for which tasks hold a
     * key), [unique] decides: by default nothing is added and the holder's id is returned. The
     * check and the insert happen in one write transaction, so concurrent enqueues with one key,
     * from any process, leave one holder.
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
     * @param unique what an existing holder of [idempotencyKey] means; ignored without a key.
     * @return the id of the task that holds the key now: the new task, or the kept one.
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
        unique: UniquePolicy = UniquePolicy.KEEP,
    ): TaskId

    /**
     * Leases up to [limit] eligible tasks to [workerId] for [leaseTtl] and returns exactly those,
     * already [TaskState.LEASED], with their attempt counted and a fresh [Task.lease] each.
     * Empty when none is eligible.
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
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun registerWorker(workerId: String, capabilities: Set<String>, leaseTtl: Duration)

    /**
     * Records that [workerId] is alive and extends each of [leases] that is still valid to now
     * plus the lease TTL the worker registered (or last claimed) with, never shortening a lease
     * (a longer [renew] stands). Leases of [workerId] not passed are left to expire: a worker
     * passes the leases of the handlers it still runs. Returns those of [leases] it still holds;
     * one missing was cancelled, reclaimed or expired, and its work should stop.
     *
     * An unknown (or swept as stale) worker holds nothing and gets an empty set; it is not
     * registered again by a heartbeat.
     *
     * @param leases leases of [workerId] to extend; an empty collection only records liveness.
     * @throws IllegalArgumentException if [workerId] is blank or one of [leases] belongs to
     *   another worker.
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun heartbeat(workerId: String, leases: Collection<TaskLease>): Set<TaskLease>

    /**
     * Extends [lease] to now plus [ttl] if that exact claim still holds a valid lease, never
     * shortening it ([AckResult.RENEWED]); otherwise refuses as [complete] does.
     *
     * @throws IllegalArgumentException if [ttl] is not positive.
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun renew(lease: TaskLease, ttl: Duration): AckResult

    /**
     * Marks the task [TaskState.SUCCEEDED] if [lease] (that exact claim) still holds its valid
     * lease; otherwise refuses with [AckResult.LEASE_LOST] (the lease expired, even if not yet
     * swept, or the task was reclaimed, finished or claimed again, even by the same worker),
     * [AckResult.CANCELLED] or [AckResult.NOT_FOUND] and changes nothing.
     *
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun complete(lease: TaskLease): AckResult

    /**
     * Records a failed attempt if [lease] still holds the task's valid lease. With attempts left
     * and [retryable], the task is queued again after the backoff of its type's [RetryPolicy]
     * ([AckResult.RETRY_SCHEDULED]); otherwise it goes to [TaskState.DEAD_LETTER]
     * ([AckResult.DEAD_LETTERED]). [error] is kept as the task's last error either way. Refusals
     * are as for [complete].
     *
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun fail(lease: TaskLease, error: String, retryable: Boolean = true): AckResult

    /**
     * Hands a leased task back unfinished: it is queued again at once and the attempt is not
     * counted ([AckResult.RELEASED]). Only a valid lease is refunded: an expired one is refused
     * with [AckResult.LEASE_LOST] and left for [sweep], which counts the attempt. Refusals are as
     * for [complete].
     *
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun release(lease: TaskLease): AckResult

    /**
     * Cancels a [TaskState.QUEUED] or [TaskState.LEASED] task; returns false if the task is
     * missing or already final. A worker holding it learns of it from [transitions] (in this
     * process), from [heartbeat] (in any process), and from the [AckResult.CANCELLED] its ack gets.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun cancel(taskId: TaskId): Boolean

    /**
     * Puts a [TaskState.DEAD_LETTER] task back in the queue: [TaskState.QUEUED], claimable now,
     * with its attempt count reset to 0 so it gets [Task.maxAttempts] claims again. Its last error
     * is kept until a later attempt replaces it. Returns false if the task is missing or not
     * dead-lettered (a task in any other state is left alone). The change is logged in [taskLog]
     * and emitted on [transitions] like any other.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun requeue(taskId: TaskId): Boolean

    /**
     * Removes workers that have not heartbeated within [TaskQueueConfig.staleWorkerTimeout] and
     * puts back every task whose lease expired or whose worker was removed, counting the attempt:
     * queued again after backoff if attempts are left, dead-lettered otherwise. It also enqueues
     * the next occurrence of every active [schedule] that has none pending. A [TaskWorker] runs
     * it periodically; it is safe to run from any process at any time.
     *
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun sweep(): SweepResult

    /**
     * Removes [workerId] from the registry and ends its leases: each still valid is released
     * without counting the attempt; each already expired is handled as [sweep] would (attempt
     * counted, retried or dead-lettered). Returns how many tasks it released.
     *
     * @throws QueueStorageException if the write failed.
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
     * number of active workers.
     *
     * On SQLite it costs the same with ten tasks or ten million: the depth comes from per-(type,
     * state) counts that triggers keep in the transaction of every change, whichever process
     * makes it, the oldest queued task is found through an index, and the worker registry is
     * small. So it is exact at every call (including writes by other processes) and is never
     * cached; a dashboard may poll it.
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
     * The task [taskId] now and after every change, from any process: emits the stored task (or
     * null while there is none) at once, then again each time it differs from the last emission.
     *
     * Changes through this queue object are seen at once; changes by other connections and
     * processes are seen within [TaskQueueConfig.observeInterval], by polling SQLite's
     * `PRAGMA data_version` (one cheap pragma per interval while collected; the task is read again
     * only when the file changed). Intermediate states between two polls may be skipped: it is a
     * view of the current state, not a log (see [taskLog]).
     *
     * **Cancellation.** Cold: each collector polls on its own and stops when cancelled.
     *
     * @throws IllegalStateException from collection if the queue is closed.
     * @throws QueueStorageException from collection if a read failed.
     */
    public fun observe(taskId: TaskId): Flow<Task?>

    /**
     * Suspends until task [taskId] is final ([TaskState.isFinal]) and returns it; null if there is
     * no such task (never enqueued, or purged). Sees changes made by other processes as [observe]
     * does. Wrap it in `withTimeout` to bound the wait.
     *
     * @throws IllegalStateException if the queue is closed.
     * @throws QueueStorageException if a read failed.
     */
    public suspend fun awaitFinal(taskId: TaskId): Task?

    /**
     * Creates the recurring schedule [name], or redefines it, and returns it as stored.
     *
     * Each fire time of [recurrence] becomes one task of [type] with [payload], enqueued with
     * `runAfter` = the fire time and the idempotency key `schedule:<name>:<fire time>`. At most one
     * occurrence is unfinished at a time: the next one is enqueued in the same transaction that
     * completes, dead-letters or cancels the previous one (or by [sweep] when none is pending, for
     * example after [purgeFinished] or a crash), so occurrences never overlap. Fire times missed
     * meanwhile are handled by [misfire]. Because every enqueue of an occurrence happens in a
     * write transaction that also moves the schedule row, and the key is unique, each fire time is
     * enqueued exactly once across all processes using the file.
     *
     * The first fire time is the first at or after [startAt] (now by default). Redefining an
     * existing schedule with a different recurrence, type, payload or attempts cancels its queued
     * occurrence and enqueues the next one under the new definition; a running occurrence is left
     * to finish. Redefining it identically changes nothing, so calling this at every start-up is
     * safe. A paused schedule stays paused.
     *
     * @param name the schedule's unique name, 1 to 200 characters.
     * @param recurrence when it fires; see [Recurrence.Every] and [Recurrence.Cron].
     * @param misfire what to do about fire times missed.
     * @param startAt the earliest fire time; for [Recurrence.Every] the grid's origin.
     * @throws IllegalArgumentException naming the field, as [enqueue] does, or if [name] is blank
     *   or too long.
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun schedule(
        name: String,
        type: String,
        payload: String,
        recurrence: Recurrence,
        misfire: MisfirePolicy = MisfirePolicy.RUN_ONCE,
        priority: Int = 100,
        maxAttempts: Int = 5,
        requires: Set<String> = emptySet(),
        startAt: Instant? = null,
    ): Schedule

    /**
     * Every schedule, by name.
     *
     * @throws QueueStorageException if a read failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun schedules(): List<Schedule>

    /**
     * Pauses schedule [name]: its queued occurrence is cancelled and nothing more is enqueued
     * until [resumeSchedule]. A running occurrence finishes. Returns false if there is no such
     * schedule; pausing a paused schedule returns true and changes nothing.
     *
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun pauseSchedule(name: String): Boolean

    /**
     * Resumes schedule [name]: the next fire time after now is enqueued, or with
     * [MisfirePolicy.RUN_ONCE] the latest fire time missed while paused, at once. Returns false if
     * there is no such schedule; resuming a running schedule returns true and changes nothing.
     *
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun resumeSchedule(name: String): Boolean

    /**
     * Deletes schedule [name] and cancels its queued occurrence; a running one finishes. Returns
     * false if there is no such schedule.
     *
     * @throws QueueStorageException if the write failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun deleteSchedule(name: String): Boolean

    /**
     * State changes committed through this queue, as they commit: a hot flow for in-process
     * listeners. It does not replay the past, does not see writes of other processes, and drops
     * the oldest changes for a subscriber more than 4,096 changes behind. Use [taskLog] for a
     * complete history.
     */
    public val transitions: Flow<TaskTransition>

    /** A blocking view of this queue for Java callers, sharing its writer. */
    public fun blocking(): BlockingTaskQueue = BlockingTaskQueue(this)

    /** A [java.util.concurrent.CompletableFuture] view of this queue for Java callers. */
    public fun async(): AsyncTaskQueue = AsyncTaskQueue(this)

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
