package dev.spool.queue.internal

import org.slf4j.Logger

/**
 * Logs evictions without flooding: the first eviction warns at once; later ones are summed and
 * logged at most once per [intervalMillis]. Writer thread only.
 */
internal class EvictionWarnings(
    private val logger: Logger,
    private val name: String,
    private val intervalMillis: Long = 10_000,
    private val clock: () -> Long = System::currentTimeMillis,
) {
    private var lastWarning = Long.MIN_VALUE
    private var suppressed = 0L

    fun evicted(cap: Int, count: Int) {
        if (count == 0) return
        val now = clock()
        if (lastWarning == Long.MIN_VALUE || now - lastWarning >= intervalMillis) {
            val total = suppressed + count
            LogEvents.warn(logger, "queue.evicted", name, LogEvents.EVICTED, cap, total)
            lastWarning = now
            suppressed = 0
        } else {
            suppressed += count
        }
    }
}
