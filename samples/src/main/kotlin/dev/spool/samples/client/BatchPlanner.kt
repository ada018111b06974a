package dev.spool.samples.client

import dev.spool.queue.QueuedEvent
import dev.spool.samples.Wire

/**
 * Chooses what to upload next: the longest run of the oldest events that holds at most
 * [maxEvents] events and whose JSON body is at most [maxBytes] bytes before compression.
 *
 * An event too large to fit even alone is still planned, alone, so the server can answer 413 and
 * the worker can move it aside; the queue never stalls behind it. The server stays the authority
 * on its limit: a smaller real limit is handled by halving on 413 (see [SyncWorker]).
 *
 * Pure and thread-safe.
 *
 * @throws IllegalArgumentException if [maxEvents] or [maxBytes] is not positive.
 */
public class BatchPlanner(
    public val maxEvents: Int = 100,
    public val maxBytes: Int = Wire.DEFAULT_MAX_BATCH_BYTES,
) {
    init {
        require(maxEvents >= 1) { "maxEvents must be at least 1, was $maxEvents" }
        require(maxBytes >= 1) { "maxBytes must be at least 1, was $maxBytes" }
    }

    /**
     * The next batch from [candidates] (oldest first), or null if there are none.
     *
     * The batch is a prefix of [candidates]: FIFO order is kept and no event is skipped.
     */
    public fun plan(candidates: List<QueuedEvent>): Batch? {
        if (candidates.isEmpty()) return null
        val encoded = ArrayList<ByteArray>()
        var size = Batch.envelope
        for (event in candidates) {
            if (encoded.size == maxEvents) break
            val bytes = Batch.encode(event)
            val next = size + Batch.added(encoded.size, bytes.size)
            if (next > maxBytes && encoded.isNotEmpty()) break
            encoded += bytes
            size = next
            if (size > maxBytes) break // a single oversized event goes alone
        }
        return Batch(candidates.subList(0, encoded.size).toList(), encoded)
    }

    override fun toString(): String = "BatchPlanner(maxEvents=$maxEvents, maxBytes=$maxBytes)"
}
