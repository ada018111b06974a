package dev.spool.tasks

/**
 * The identity of one task in a [TaskQueue]: the row id SQLite gave it, stable for the task's life
 * and never reused within one database file.
 */
@JvmInline
public value class TaskId(
    /** The raw row id. */
    public val value: Long,
) {
    override fun toString(): String = "TaskId($value)"
}
