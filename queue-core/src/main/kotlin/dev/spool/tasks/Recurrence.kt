package dev.spool.tasks

import com.cronutils.model.CronType
import com.cronutils.model.definition.CronDefinitionBuilder
import com.cronutils.model.time.ExecutionTime
import com.cronutils.parser.CronParser
import java.time.Instant
import java.time.ZoneId
import java.time.ZoneOffset
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toKotlinDuration

/**
 * When a [Schedule] fires: at a fixed interval ([Every]) or at the times a cron expression names
 * ([Cron]).
 *
 * Fire times are whole epoch milliseconds. Each fire time of a schedule is enqueued at most once,
 * whatever the number of processes (see [TaskQueue.schedule]).
 *
 * **Threading.** Immutable; safe to share.
 */
public sealed class Recurrence {
    /**
     * The first fire time strictly after [after] (epoch ms), for a schedule whose first fire time
     * is [start]; null if there is none. Pure: every TaskQueue backend computes fire times with it.
     */
    @InternalSpoolApi
    public abstract fun nextAfter(start: Long, after: Long): Long?

    /**
     * The last fire time at or before [atOrBefore] (epoch ms), for a schedule starting at [start];
     * null if none. Pure: every TaskQueue backend applies [MisfirePolicy.RUN_ONCE] with it.
     */
    @InternalSpoolApi
    public abstract fun lastAtOrBefore(start: Long, atOrBefore: Long): Long?

    /**
     * Fires every [interval], counted from the schedule's start: `start`, `start + interval`, …
     *
     * @property interval the time between fire times, at least one second.
     * @throws IllegalArgumentException if [interval] is shorter than one second or infinite.
     */
    public class Every(public val interval: Duration) : Recurrence() {
        init {
            require(interval >= 1.seconds && interval.isFinite()) { "every must be at least 1s and finite, was $interval" }
        }

        private val intervalMs: Long get() = interval.inWholeMilliseconds

        @InternalSpoolApi
        override fun nextAfter(start: Long, after: Long): Long =
            if (after < start) start else start + ((after - start) / intervalMs + 1) * intervalMs

        @InternalSpoolApi
        override fun lastAtOrBefore(start: Long, atOrBefore: Long): Long? =
            if (atOrBefore < start) null else start + (atOrBefore - start) / intervalMs * intervalMs

        override fun equals(other: Any?): Boolean = other is Every && other.interval == interval

        override fun hashCode(): Int = interval.hashCode()

        override fun toString(): String = "every $interval"
    }

    /**
     * Fires at the times a five-field Unix cron expression (`minute hour day-of-month month
     * day-of-week`, for example `"0 3 * * MON-FRI"`) names, evaluated in [zone]. Parsed by
     * cron-utils; across a daylight-saving change the times are those cron-utils computes.
     *
     * @property expression the cron expression.
     * @property zone the time zone its hours and days are read in; UTC by default.
     * @throws IllegalArgumentException naming `cron` if [expression] is not a valid Unix cron
     *   expression.
     */
    public class Cron @JvmOverloads constructor(
        public val expression: String,
        public val zone: ZoneId = ZoneOffset.UTC,
    ) : Recurrence() {
        private val executionTime: ExecutionTime = try {
            ExecutionTime.forCron(PARSER.parse(expression).validate())
        } catch (e: IllegalArgumentException) {
            throw IllegalArgumentException("cron is not a valid Unix cron expression: '$expression' (${e.message})", e)
        }

        @InternalSpoolApi
        override fun nextAfter(start: Long, after: Long): Long? {
            val from = maxOf(after, start - 1)
            return executionTime.nextExecution(Instant.ofEpochMilli(from).atZone(zone)).orElse(null)?.toInstant()?.toEpochMilli()
        }

        @InternalSpoolApi
        override fun lastAtOrBefore(start: Long, atOrBefore: Long): Long? {
            val last = executionTime.lastExecution(Instant.ofEpochMilli(atOrBefore + 1).atZone(zone))
                .orElse(null)?.toInstant()?.toEpochMilli() ?: return null
            return last.takeIf { it >= start }
        }

        override fun equals(other: Any?): Boolean = other is Cron && other.expression == expression && other.zone == zone

        override fun hashCode(): Int = expression.hashCode() * 31 + zone.hashCode()

        override fun toString(): String = "cron '$expression' in $zone"

        private companion object {
            val PARSER = CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX))
        }
    }

    /** Factories for Java callers. */
    public companion object {
        /**
         * Every [interval].
         *
         * @throws IllegalArgumentException as [Every] does.
         */
        @JvmStatic
        public fun every(interval: java.time.Duration): Recurrence = Every(interval.toKotlinDuration())

        /**
         * At the times of a Unix cron [expression] in [zone].
         *
         * @throws IllegalArgumentException as [Cron] does.
         */
        @JvmStatic
        @JvmOverloads
        public fun cron(expression: String, zone: ZoneId = ZoneOffset.UTC): Recurrence = Cron(expression, zone)
    }
}
