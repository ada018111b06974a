package dev.spool.tasks

/**
 * One page of [TaskQueue.list], in ascending [TaskId] order.
 *
 * @property tasks the tasks of this page.
 * @property nextCursor pass it to [TaskQueue.list] for the next page; null when this is the last.
 */
public class TaskPage(
    public val tasks: List<Task>,
    public val nextCursor: TaskId?,
) {
    override fun equals(other: Any?): Boolean = other is TaskPage &&
        other.tasks == tasks &&
        other.nextCursor == nextCursor

    override fun hashCode(): Int = listOf(tasks, nextCursor).hashCode()

    override fun toString(): String = "TaskPage(tasks=$tasks, nextCursor=$nextCursor)"
}
