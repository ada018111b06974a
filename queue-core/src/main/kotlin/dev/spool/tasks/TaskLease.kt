package dev.spool.tasks

/**
 * The receipt of one claim of one task: which task, which worker, and which claim (a fencing
 * token). [TaskQueue.complete], [TaskQueue.fail], [TaskQueue.release] and [TaskQueue.renew] take
 * it, and apply only while this exact claim still holds a valid lease.
 *
 * Every claim of a task gets a new [token], greater than every earlier one for that task and never
 * reused, even when the same worker claims the task again after its lease expired or after a
 * release. So an acknowledgement from an earlier attempt can never be mistaken for one from the
 * current attempt: it is refused with [AckResult.LEASE_LOST]. This is the role of an SQS receipt
 * handle.
 *
 * A lease is a value: two leases are equal when task, worker and token are. It says nothing about
 * whether the lease is still valid; only the queue knows that ([Task.leaseExpiresAt] is a
 * snapshot).
 *
 * **Threading.** Immutable; safe to share.
 *
 * @property taskId the leased task.
 * @property workerId the worker that claimed it.
 * @property token the claim's fencing token: 1 for the task's first claim, then growing by one
 *   with every claim.
 * @throws IllegalArgumentException if [workerId] is blank or [token] is below 1.
 */
public class TaskLease(
    public val taskId: TaskId,
    public val workerId: String,
    public val token: Long,
) {
    init {
        require(workerId.isNotBlank()) { "workerId must not be blank" }
        require(token >= 1) { "token must be at least 1, was $token" }
    }

    /** The raw task id, for Java callers (value classes are mangled in Java signatures). */
    public val taskIdValue: Long get() = taskId.value

    override fun equals(other: Any?): Boolean =
        other is TaskLease && other.taskId == taskId && other.workerId == workerId && other.token == token

    override fun hashCode(): Int = (taskId.hashCode() * 31 + workerId.hashCode()) * 31 + token.hashCode()

    override fun toString(): String = "TaskLease(task=${taskId.value}, worker=$workerId, token=$token)"

    /** Creating leases from Java. */
    public companion object {
        /**
         * A lease from its parts, for Java callers that stored them (for example in a message to
         * another thread or process).
         *
         * @throws IllegalArgumentException as the constructor does.
         */
        @JvmStatic
        public fun of(taskId: Long, workerId: String, token: Long): TaskLease = TaskLease(TaskId(taskId), workerId, token)
    }
}
