package dev.spool.tasks.internal

import dev.spool.tasks.InternalSpoolApi
import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.Recurrence

/**
 * The pure arithmetic of recurring schedules, shared by every TaskQueue backend so that they fire
 * alike: the occurrence key, the first fire time of a new or redefined schedule, and the misfire
 * policy. Times are epoch milliseconds; nothing here reads a clock or touches storage.
 */
@InternalSpoolApi
public object ScheduleRules {
    /** How many already-finished fire times one advance may step over before it gives up until the next sweep. */
    public const val MAX_FINISHED_SKIPS: Int = 1000

    /** The idempotency key of the occurrence of schedule [name] at [fireAt]. */
    public fun key(name: String, fireAt: Long): String = "schedule:$name:$fireAt"

    /** The first fire time of a schedule created with first fire time [start]. */
    public fun firstFireTime(recurrence: Recurrence, start: Long): Long? = recurrence.nextAfter(start, start - 1)

    /** The first fire time of a schedule redefined at [now] with first fire time [start]: none before [now]. */
    public fun redefinedFireTime(recurrence: Recurrence, start: Long, now: Long): Long? =
        recurrence.nextAfter(start, maxOf(start, now) - 1)

    /**
     * The fire time to enqueue at [now] when [next] is the first fire time not yet enqueued: [next]
     * itself if it has not passed, else what [misfire] says (SKIP: the first fire time after
     * [now]; RUN_ONCE: the latest one at or before [now]). Null if the recurrence has none.
     */
    public fun fireTime(recurrence: Recurrence, start: Long, misfire: MisfirePolicy, next: Long, now: Long): Long? =
        if (next >= now) {
            next
        } else {
            when (misfire) {
                MisfirePolicy.SKIP -> recurrence.nextAfter(start, now - 1)
                MisfirePolicy.RUN_ONCE -> recurrence.lastAtOrBefore(start, now) ?: next
            }
        }
}
