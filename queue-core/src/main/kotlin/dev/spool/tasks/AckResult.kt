package dev.spool.tasks

/**
 * What [TaskQueue.complete], [TaskQueue.fail] and [TaskQueue.release] did. Only the first four
 * values mean the call was applied; the others mean it was refused and nothing changed.
 */
public enum class AckResult {
    /** The task is now [TaskState.SUCCEEDED]. */
    COMPLETED,

    /** The task failed and is [TaskState.QUEUED] again, to run after its backoff delay. */
    RETRY_SCHEDULED,

    /** The task failed for the last time (or not retryably) and is now [TaskState.DEAD_LETTER]. */
    DEAD_LETTERED,

    /** The task was handed back unfinished and is [TaskState.QUEUED] again; the attempt is not counted. */
    RELEASED,

    /**
     * Refused: the caller no longer holds the task's lease. It expired (even if not yet swept), or
     * the task was reclaimed, finished or leased by another worker. The stale worker's outcome is
     * dropped; whoever holds the lease now decides.
     */
    LEASE_LOST,

    /** Refused: the task was cancelled while the worker held it. */
    CANCELLED,

    /** Refused: there is no task with this id. */
    NOT_FOUND,
    ;

    /** True if the call changed the task. */
    public val applied: Boolean get() = this == COMPLETED || this == RETRY_SCHEDULED || this == DEAD_LETTERED || this == RELEASED
}
