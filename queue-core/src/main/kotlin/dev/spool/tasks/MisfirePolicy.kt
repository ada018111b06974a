package dev.spool.tasks

/**
 * What a [Schedule] does about fire times that passed while no occurrence could be enqueued: the
 * previous occurrence was still running or waiting, the schedule was paused, or no process had
 * the queue open.
 *
 * A schedule keeps at most one occurrence unfinished at a time, so occurrences never overlap.
 * When the next occurrence is due to be enqueued (the previous one finished, the schedule was
 * resumed, or a sweep found none pending) and one or more fire times have already passed:
 */
public enum class MisfirePolicy {
    /** Enqueue nothing for the missed fire times; wait for the first fire time still ahead. */
    SKIP,

    /** Enqueue one occurrence at once for the latest missed fire time, then carry on as usual. */
    RUN_ONCE,
}
