package dev.spool.tasks

/**
 * Which eligible tasks a [TaskQueue.claim] takes first. Eligibility is the same for every
 * strategy: the task is [TaskState.QUEUED], its `runAfter` has passed, its type is accepted and
 * its `requires` set is a subset of the worker's capabilities.
 */
public enum class ClaimStrategy {
    /** Oldest enqueued first (by [TaskId]). */
    FIFO,

    /** Newest enqueued first (by [TaskId]). */
    LIFO,

    /** Lowest priority number first, then oldest first. A low-priority task waits as long as higher ones exist. */
    PRIORITY,

    /**
     * A random pick where each eligible task's chance is proportional to its weight
     * `1 / (1 + priority)`: priority 0 weighs 1, priority 9 weighs 1/10, priority 99 weighs 1/100.
     *
     * With one task of priority 0 and one of priority 9, the first is claimed first 10 times out of
     * 11. A claim of `limit` tasks is a weighted sample without replacement (Efraimidis–Spirakis:
     * each task draws the key `-ln(U) * (1 + priority)` and the smallest keys win), done by SQLite
     * in the claim's own statement.
     *
     * No task starves: every weight is positive, so among `n` eligible tasks of total weight `W` a
     * task of weight `w` is claimed by each single claim with chance at least `w / W`, and its
     * expected wait is at most `W / w` claims, however long higher-priority tasks keep coming.
     * There is no aging: the chance does not grow with the time waited.
     *
     * Cost: every claim draws a key for every eligible task, so it scans the eligible set. Prefer
     * [PRIORITY] or [FIFO] for backlogs of hundreds of thousands of tasks.
     */
    WEIGHTED_RANDOM,
}
