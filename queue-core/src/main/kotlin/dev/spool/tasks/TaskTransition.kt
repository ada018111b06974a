package dev.spool.tasks

import java.time.Instant

/**
 * One change of a task's state: an entry of [TaskQueue.taskLog] and an element of
 * [TaskQueue.transitions].
 *
 * @property taskId the task that changed.
 * @property type the task's type.
 * @property from the state before, or null when the task was enqueued.
 * @property to the state after.
 * @property at when it changed, by the queue's clock.
 * @property workerId the worker involved (claimer, acknowledger, or the expired lease's holder).
 * @property attempt the task's attempt count after the change.
 * @property error the failure's text for failed or expired attempts, else null.
 */
public class TaskTransition(
    public val taskId: TaskId,
    public val type: String,
    public val from: TaskState?,
    public val to: TaskState,
    public val at: Instant,
    public val workerId: String?,
    public val attempt: Int,
    public val error: String?,
) {
    override fun equals(other: Any?): Boolean = other is TaskTransition && other.taskId == taskId &&
        other.from == from && other.to == to && other.at == at && other.workerId == workerId &&
        other.attempt == attempt && other.error == error

    override fun hashCode(): Int = (taskId.hashCode() * 31 + to.hashCode()) * 31 + at.hashCode()

    override fun toString(): String =
        "TaskTransition(task=${taskId.value}, type=$type, $from -> $to, at=$at, worker=$workerId, attempt=$attempt, error=$error)"
}
