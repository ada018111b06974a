package dev.spool.tasks

import kotlin.time.Duration

/**
 * A summary of a [TaskQueue], from [TaskQueue.stats].
 *
 * @property depth the number of tasks by type, then by state; states with no task are absent.
 * @property oldestQueuedAge how long the oldest [TaskState.QUEUED] task has existed, or null.
 * @property succeeded completions since the file was created.
 * @property failed failed attempts since the file was created: [TaskQueue.fail] calls and expired
 *   leases, whether retried or dead-lettered.
 * @property activeWorkers registered workers that heartbeated within the stale-worker timeout.
 */
public class TaskStats(
    public val depth: Map<String, Map<TaskState, Int>>,
    public val oldestQueuedAge: Duration?,
    public val succeeded: Long,
    public val failed: Long,
    public val activeWorkers: Int,
) {
    override fun equals(other: Any?): Boolean = other is TaskStats &&
        other.depth == depth &&
        other.oldestQueuedAge == oldestQueuedAge &&
        other.succeeded == succeeded &&
        other.failed == failed &&
        other.activeWorkers == activeWorkers

    override fun hashCode(): Int = listOf(depth, oldestQueuedAge, succeeded, failed, activeWorkers).hashCode()

    override fun toString(): String = "TaskStats(depth=$depth, oldestQueuedAge=$oldestQueuedAge, succeeded=$succeeded, " +
        "failed=$failed, activeWorkers=$activeWorkers)"

    /** The number of tasks in [state], over every type. */
    public fun count(state: TaskState): Int = depth.values.sumOf { it[state] ?: 0 }
}
