package dev.spool.queue.internal

import dev.spool.engine.LogEvents
import dev.spool.engine.ThrottledCount
import org.slf4j.Logger

/**
 * Logs evictions without flooding: the first eviction warns at once; later ones are summed and
 * logged at most once per [intervalMillis] (see [ThrottledCount]). Writer thread only.
 */
internal class EvictionWarnings(
    private val logger: Logger,
    private val name: String,
    intervalMillis: Long = 10_000,
    clock: () -> Long = System::currentTimeMillis,
) {
    private val evictions = ThrottledCount(intervalMillis, clock)

    fun evicted(cap: Int, count: Int) {
        val total = evictions.add(count.toLong()) ?: return
        LogEvents.warn(logger, "queue.evicted", name, LogEvents.EVICTED, cap, total)
    }
}
