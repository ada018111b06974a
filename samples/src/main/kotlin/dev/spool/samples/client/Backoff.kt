package dev.spool.samples.client

import kotlin.random.Random
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Exponential backoff with "equal jitter": after the n-th consecutive failure, wait a random
 * time between half and all of `min(max, base * 2^(n-1))`.
 *
 * The jitter spreads retries of many clients after a shared outage; the lower half keeps the
 * growth. Pass a seeded [random] for reproducible delays.
 *
 * @throws IllegalArgumentException if [base] is not positive or [max] is below [base].
 */
public class Backoff(
    public val base: Duration = 250.milliseconds,
    public val max: Duration = 10.seconds,
    private val random: Random = Random.Default,
) {
    init {
        require(base.isPositive()) { "base must be positive, was $base" }
        require(max >= base) { "max must be at least base ($base), was $max" }
    }

    /**
     * How long to wait after [failures] consecutive failures.
     *
     * @throws IllegalArgumentException if [failures] is below 1.
     */
    public fun delayFor(failures: Int): Duration {
        require(failures >= 1) { "failures must be at least 1, was $failures" }
        val ceiling = if (failures > 31) max else minOf(max, base * (1L shl (failures - 1)).toDouble())
        val half = ceiling / 2
        return half + (ceiling - half) * synchronized(random) { random.nextDouble() }
    }

    override fun toString(): String = "Backoff(base=$base, max=$max)"
}
