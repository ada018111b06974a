package dev.spool.engine

/**
 * Which kind of queue owns a database file, so shared engine code (checkpoints, log lines, error
 * messages) names it the way its user knows it.
 */
internal enum class QueueKind(
    /** How log lines and messages name it, capitalised: "Offline queue", "Task queue". */
    val label: String,
) {
    OFFLINE("Offline queue"),
    TASK("Task queue"),
    ;

    /** The [LogEvents.CHECKPOINT_FAILED] template for this kind. */
    val checkpointFailed: String
        get() = when (this) {
            OFFLINE -> LogEvents.CHECKPOINT_FAILED
            TASK -> LogEvents.TASK_CHECKPOINT_FAILED
        }
}
