package dev.spool.queue

/**
 * The outcome of one enqueue, returned once the write is durable.
 *
 * @property outcome whether a row was inserted, replaced or coalesced.
 * @property evicted how many of the oldest rows were deleted to make room. Always 0 for
 *   [OfflineQueue.append], which never evicts, and for replaced or coalesced events.
 */
public class EnqueueResult(
    public val outcome: EnqueueOutcome,
    public val evicted: Int = 0,
) {
    override fun equals(other: Any?): Boolean =
        other is EnqueueResult && outcome == other.outcome && evicted == other.evicted

    override fun hashCode(): Int = outcome.hashCode() * 31 + evicted

    override fun toString(): String = "EnqueueResult(outcome=$outcome, evicted=$evicted)"
}
