package dev.spool.tasks.internal

import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/**
 * The epoch millisecond [delay] after [now], rounded up to a whole millisecond (so a positive
 * sub-millisecond delay is never lost) and saturating at [Long.MAX_VALUE] (an infinite delay, or
 * one past the storable range, means "never"). Never before [now].
 */
internal fun millisAfter(now: Long, delay: Duration): Long {
    if (delay.isInfinite()) return if (delay.isPositive()) Long.MAX_VALUE else now
    if (!delay.isPositive()) return now
    val whole = delay.inWholeMilliseconds
    val roundUp = if (delay > whole.milliseconds) 1L else 0L
    return try {
        Math.addExact(Math.addExact(now, whole), roundUp)
    } catch (e: ArithmeticException) {
        Long.MAX_VALUE
    }
}
