package dev.spool.engine

/**
 * Sums occurrences of something worth a warning and says when to log: the first at once, later
 * ones at most once per [intervalMillis], carrying the count suppressed meanwhile. Thread-safe.
 */
internal class ThrottledCount(
    private val intervalMillis: Long = 10_000,
    private val clock: () -> Long = System::currentTimeMillis,
) {
    private var lastLogged = Long.MIN_VALUE
    private var suppressed = 0L

    /** Adds [count]; returns the total to log now, or null to stay quiet. */
    @Synchronized
    fun add(count: Long): Long? {
        if (count == 0L) return null
        val now = clock()
        if (lastLogged != Long.MIN_VALUE && now - lastLogged < intervalMillis) {
            suppressed += count
            return null
        }
        lastLogged = now
        val total = suppressed + count
        suppressed = 0
        return total
    }
}
