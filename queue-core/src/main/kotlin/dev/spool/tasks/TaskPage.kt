package dev.spool.tasks

/**
 * One page of [TaskQueue.list], in ascending [TaskId] order.
 *
 * @property tasks the tasks of this page.
 * @property nextCursor pass it to [TaskQueue.list] for the next page; null when this is the last.
 */
public data class TaskPage(
    public val tasks: List<Task>,
    public val nextCursor: TaskId?,
)
