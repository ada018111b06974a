package dev.spool.tasks

/**
 * What [TaskQueue.complete], [TaskQueue.fail], [TaskQueue.release] and [TaskQueue.renew] did.
 * Only the first five values mean the call was applied; the others mean it was refused and
 * nothing changed.
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

    /** The lease was extended ([TaskQueue.renew]); the task is still [TaskState.LEASED] to the caller. */
    RENEWED,

    /**
     * Refused: the caller's lease is not the task's valid lease. It expired (even if not yet
     * swept), or the task was reclaimed, finished, or claimed again (by another worker or by the
     * same one: the lease's token differs). The stale worker's outcome is
     * dropped; whoever holds the lease now decides.
     */
    LEASE_LOST,

    /** Refused: the task was cancelled while the worker held it. */
    CANCELLED,

    /** Refused: there is no task with this id. */
    NOT_FOUND,
    ;

    /** True if the call changed the task. */
    public val applied: Boolean get() = this == COMPLETED || this == RETRY_SCHEDULED || this == DEAD_LETTERED || this == RELEASED ||
        this == RENEWED
}
