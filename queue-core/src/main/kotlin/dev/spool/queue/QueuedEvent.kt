package dev.spool.queue

import java.time.Instant

/**
 * An event as stored in the queue, returned by reads such as [OfflineQueue.peek].
 *
 * @property eventId the event's id; after coalescing, the id of the newest coalesced event.
 * @property eventType the event's type.
 * @property payload the event body, JSON text exactly as enqueued.
 * @property projectId the event's project, if any.
 * @property coalesceKey the event's coalescing key, if any.
 * @property timestamp when the row was last written (enqueued, replaced or coalesced), with
 *   millisecond precision. FIFO order is by this timestamp, then by insertion order.
 * @property retryCount how many times the server rejected this event (see
 *   [OfflineQueue.incrementRetry]). Replacing or coalescing the row keeps it.
 * @property revision a number that changes every time the row's content is replaced or coalesced.
 *   [DeferredSync.record] uses it to avoid deleting content newer than what was uploaded.
 */
public class QueuedEvent(
    public val eventId: String,
    public val eventType: String,
    public val payload: String,
    public val projectId: String?,
    public val coalesceKey: String?,
    public val timestamp: Instant,
    public val retryCount: Int,
    public val revision: Long,
) {
    /** This row's content as a [QueueEvent], for example to enqueue it elsewhere. */
    public fun toQueueEvent(): QueueEvent = QueueEvent(eventId, eventType, payload, projectId, coalesceKey)

    override fun equals(other: Any?): Boolean =
        other is QueuedEvent &&
            eventId == other.eventId &&
            eventType == other.eventType &&
            payload == other.payload &&
            projectId == other.projectId &&
            coalesceKey == other.coalesceKey &&
            timestamp == other.timestamp &&
            retryCount == other.retryCount &&
            revision == other.revision

    override fun hashCode(): Int = eventId.hashCode() * 31 + revision.hashCode()

    override fun toString(): String =
        "QueuedEvent(eventId=$eventId, eventType=$eventType, projectId=$projectId, " +
            "coalesceKey=$coalesceKey, timestamp=$timestamp, retryCount=$retryCount, " +
            "revision=$revision, payload=${payload.length} chars)"
}
