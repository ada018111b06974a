package dev.spool.tasks

import kotlin.math.pow
import kotlin.random.Random
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toKotlinDuration

/**
 * How long a failed task waits before it may be claimed again: exponential backoff with jitter.
 *
 * After the `n`-th failed attempt (n ≥ 1) the nominal delay is `min(max, base * factor^(n-1))`.
 * [jitter] then shortens it by a random fraction of up to `jitter`, so the actual delay lies in
 * `[nominal * (1 - jitter), nominal]` and never exceeds [max]. Jitter spreads out retries of tasks
 * that failed together (say, when a server came back).
 *
 * A [TaskQueueConfig] has one policy for the queue and optional policies per task type. An
 * expired lease counts as a failed attempt and uses the same policy.
 *
 * **Exact, saturating arithmetic.** Delays are computed as [Duration]s, never through a rounded
 * millisecond count: a [base] under one millisecond is honoured (250µs·2ⁿ grows as it should), and
 * a retry time is stored as the next whole millisecond at or after now plus the delay, so a
 * positive delay never rounds down to no delay at all. Growth saturates at [max]: a zero [base]
 * gives zero delays for any number of failures, a huge failure count gives [max], and
 * `max = Duration.INFINITE` is allowed (a task that reaches it waits forever, until cancelled or
 * purged). A retry time never lies before the failure that scheduled it.
 *
 * @property base the delay after the first failure.
 * @property factor how much each further failure multiplies the delay; 1.0 gives a constant delay.
 * @property max the longest delay.
 * @property jitter the largest fraction by which a delay is randomly shortened, in `[0, 1]`.
 * @throws IllegalArgumentException if [base] is negative, [factor] is below 1 or not finite,
 *   [max] is below [base], or [jitter] is outside `[0, 1]`.
 */
public class RetryPolicy @JvmOverloads constructor(
    public val base: Duration = 1.seconds,
    public val factor: Double = 2.0,
    public val max: Duration = 5.minutes,
    public val jitter: Double = 0.2,
) {
    init {
        require(!base.isNegative()) { "base must not be negative, was $base" }
        require(factor.isFinite() && factor >= 1.0) { "factor must be finite and at least 1, was $factor" }
        require(max >= base) { "max must be at least base ($base), was $max" }
        require(jitter in 0.0..1.0) { "jitter must be in [0, 1], was $jitter" }
    }

    /**
     * The delay before the next attempt nominally, with no jitter, after [failures] failed
     * attempts: `min(max, base * factor^(failures-1))`, saturating at [max] instead of
     * overflowing.
     *
     * @throws IllegalArgumentException if [failures] is below 1.
     */
    public fun nominalDelay(failures: Int): Duration {
        require(failures >= 1) { "failures must be at least 1, was $failures" }
        if (base == Duration.ZERO || base.isInfinite()) return base
        val growth = factor.pow(failures - 1) // at least 1, possibly +Infinity; never NaN
        return if (growth >= max / base) max else base * growth
    }

    /**
     * The delay before the next attempt after [failures] failed attempts, jittered with [random]:
     * within `[nominal * (1 - jitter), nominal]`. An infinite nominal delay stays infinite.
     *
     * @throws IllegalArgumentException if [failures] is below 1.
     */
    public fun delay(failures: Int, random: Random = Random.Default): Duration {
        val nominal = nominalDelay(failures)
        if (nominal.isInfinite() || nominal == Duration.ZERO || jitter == 0.0) return nominal
        return nominal * (1.0 - jitter * random.nextDouble())
    }

    override fun equals(other: Any?): Boolean = other is RetryPolicy && other.base == base &&
        other.factor == factor && other.max == max && other.jitter == jitter

    override fun hashCode(): Int = listOf(base, factor, max, jitter).hashCode()

    override fun toString(): String = "RetryPolicy(base=$base, factor=$factor, max=$max, jitter=$jitter)"

    /** Factories for Java callers. */
    public companion object {
        /** A policy from [java.time.Duration]s. */
        @JvmStatic
        public fun of(base: java.time.Duration, factor: Double, max: java.time.Duration, jitter: Double): RetryPolicy =
            RetryPolicy(base.toKotlinDuration(), factor, max.toKotlinDuration(), jitter)
    }
}
