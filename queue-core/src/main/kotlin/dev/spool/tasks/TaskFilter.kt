package dev.spool.tasks

/**
 * Which tasks [TaskQueue.list] returns. Null fields do not filter.
 *
 * @property states only tasks in one of these states.
 * @property type only tasks of this type.
 * @property limit the largest page, at least 1.
 * @throws IllegalArgumentException if [limit] is below 1 or [states] is empty.
 */
public class TaskFilter @JvmOverloads constructor(
    public val states: Set<TaskState>? = null,
    public val type: String? = null,
    public val limit: Int = 100,
) {
    init {
        require(limit >= 1) { "limit must be at least 1, was $limit" }
        require(states == null || states.isNotEmpty()) { "states must not be empty; pass null for every state" }
    }

    override fun equals(other: Any?): Boolean = other is TaskFilter &&
        other.states == states &&
        other.type == type &&
        other.limit == limit

    override fun hashCode(): Int = listOf(states, type, limit).hashCode()

    override fun toString(): String = "TaskFilter(states=$states, type=$type, limit=$limit)"
}
