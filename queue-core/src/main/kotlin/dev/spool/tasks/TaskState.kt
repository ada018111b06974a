package dev.spool.tasks

/**
 * Where a task is in its life. The SQL stores exactly these names, so this enum is the only
 * spelling of a state anywhere in Spool.
 *
 * ```
 * QUEUED ──claim──▶ LEASED ──complete──▶ SUCCEEDED
 *   ▲                 │ fail / lease expired, attempts left
 *   └─────────────────┘
 *                     │ fail / lease expired, no attempts left, or not retryable
 *                     └──────────────▶ DEAD_LETTER
 * QUEUED or LEASED ──cancel──▶ CANCELLED
 * ```
 */
public enum class TaskState {
    /** Waiting to be claimed once its `runAfter` time has passed. */
    QUEUED,

    /** Claimed by a worker that holds a lease on it until the lease expires. */
    LEASED,

    /** Completed by the worker that held its lease. Final. */
    SUCCEEDED,

    /** Failed on its last allowed attempt (or failed as not retryable). Keeps its last error. Final. */
    DEAD_LETTER,

    /** Cancelled by [TaskQueue.cancel] while queued or leased. Final. */
    CANCELLED,
    ;

    /** True for the states a task never leaves. */
    public val isFinal: Boolean get() = this == SUCCEEDED || this == DEAD_LETTER || this == CANCELLED
}
