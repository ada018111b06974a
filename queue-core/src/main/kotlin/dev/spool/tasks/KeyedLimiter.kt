package dev.spool.tasks

import kotlinx.coroutines.sync.Semaphore
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes
import kotlin.time.TimeMark
import kotlin.time.TimeSource

/**
 * Bounds how many coroutines run at once per key, say per host: each key has its own coroutine
 * [Semaphore] with [limits]`[key]` permits, or [defaultLimit] for keys not listed.
 *
 * A key's state is created on first use and evicted once no one holds or awaits a permit and it
 * has been idle for [idleTtl], so a million distinct keys used over time do not stay in memory.
 * Eviction runs as part of [withPermit] (at most once per [idleTtl] / 2, amortised) and by
 * [evictIdle]. An evicted key is indistinguishable from a fresh one, so eviction never changes
 * behaviour.
 *
 * **Cancellation.** A coroutine cancelled while waiting for a permit acquires none; one cancelled
 * while holding it releases it. No path leaks a permit.
 *
 * **Threading.** Safe for concurrent use. [withPermit] suspends, never blocks a thread.
 *
 * Not a rate limiter: it bounds concurrency, not calls per second.
 *
 * @param defaultLimit permits for keys without their own limit, at least 1.
 * @param limits permits per key, each at least 1.
 * @param idleTtl how long an unused key keeps its state; positive.
 * @param timeSource the clock for idleness; tests inject a [kotlin.time.TestTimeSource].
 * @throws IllegalArgumentException if a limit is below 1 or [idleTtl] is not positive.
 */
public class KeyedLimiter @JvmOverloads constructor(
    public val defaultLimit: Int,
    public val limits: Map<String, Int> = emptyMap(),
    public val idleTtl: Duration = 1.minutes,
    private val timeSource: TimeSource = TimeSource.Monotonic,
) {
    init {
        require(defaultLimit >= 1) { "defaultLimit must be at least 1, was $defaultLimit" }
        limits.forEach { (key, limit) -> require(limit >= 1) { "limits[$key] must be at least 1, was $limit" } }
        require(idleTtl.isPositive()) { "idleTtl must be positive, was $idleTtl" }
    }

    private class Entry(limit: Int, @Volatile var lastUsed: TimeMark) {
        val semaphore = Semaphore(limit)
        val users = AtomicInteger() // holders and waiters; guarded by the map's compute for 0 <-> 1
    }

    private val entries = ConcurrentHashMap<String, Entry>()

    @Volatile private var lastEviction: TimeMark = timeSource.markNow()

    /** The limit of [key]. */
    public fun limitOf(key: String): Int = limits[key] ?: defaultLimit

    /** How many keys have state now (in use, or idle and not yet evicted). */
    public val trackedKeys: Int get() = entries.size

    /** Permits of [key] free now; [limitOf] for a key without state. */
    public fun availablePermits(key: String): Int = entries[key]?.semaphore?.availablePermits ?: limitOf(key)

    /**
     * Runs [block] holding one permit of [key], suspending first while [key] has none free.
     *
     * @throws kotlinx.coroutines.CancellationException if cancelled while waiting or running; the
     *   permit is not taken, or is given back.
     */
    public suspend fun <T> withPermit(key: String, block: suspend () -> T): T {
        maybeEvict()
        val entry = entries.compute(key) { _, existing ->
            (existing ?: Entry(limitOf(key), timeSource.markNow())).also { it.users.incrementAndGet() }
        }!!
        try {
            entry.semaphore.acquire()
            try {
                return block()
            } finally {
                entry.semaphore.release()
            }
        } finally {
            entry.lastUsed = timeSource.markNow()
            entry.users.decrementAndGet()
        }
    }

    /** Drops the state of keys unused for at least [idleTtl]; returns how many it dropped. */
    public fun evictIdle(): Int {
        lastEviction = timeSource.markNow()
        var evicted = 0
        for (key in entries.keys) {
            // compute is atomic with withPermit's compute: a key gaining a user is never removed.
            entries.computeIfPresent(key) { _, entry ->
                if (entry.users.get() == 0 && entry.lastUsed.elapsedNow() >= idleTtl) {
                    evicted++
                    null
                } else {
                    entry
                }
            }
        }
        return evicted
    }

    private fun maybeEvict() {
        if (lastEviction.elapsedNow() >= idleTtl / 2) evictIdle()
    }
}
