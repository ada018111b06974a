package dev.spool.sync.internal

import dev.spool.queue.QueuedEvent
import dev.spool.sync.EventSizer

/**
 * Chooses the next batch: the longest run of the oldest [candidates][plan] with at most
 * [maxEvents] events and at most [maxBytes] bytes by [sizer]. An event larger than [maxBytes] on
 * its own is planned alone, so the server can refuse it and the queue never stalls behind it.
 *
 * Pure and thread-safe.
 */
internal class BatchPlanner(
    private val maxEvents: Int,
    private val maxBytes: Int,
    private val sizer: EventSizer,
) {
    /** A prefix of [candidates] (oldest first); empty only if [candidates] is. */
    fun plan(candidates: List<QueuedEvent>): List<QueuedEvent> {
        var bytes = 0L
        var count = 0
        for (event in candidates) {
            if (count == maxEvents) break
            val size = sizer.bytes(event).coerceAtLeast(0)
            if (count > 0 && bytes + size > maxBytes) break
            bytes += size
            count++
            if (bytes > maxBytes) break // a single oversized event goes alone
        }
        return candidates.subList(0, count).toList()
    }
}
