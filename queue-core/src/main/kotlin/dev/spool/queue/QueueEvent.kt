package dev.spool.queue

/**
 * An event to enqueue: what the app emits while it may be offline.
 *
 * This is a plain value. It is validated when it is enqueued, against the queue's [QueueConfig]:
 * see [OfflineQueue.queueEvent] for the rules and the [InvalidEventException] they raise.
 *
 * @property eventId the caller's unique id for this event, 1 to 256 characters. Enqueuing an id
 *   that is already queued replaces that row in place ([EnqueueOutcome.REPLACED]).
 * @property eventType a non-blank type name, used by [QueueStats.topEventTypes].
 * @property payload the event body as JSON text. It is stored verbatim.
 * @property projectId an optional owner, indexed so [OfflineQueue.removeProjectEvents] is cheap.
 * @property coalesceKey an optional key: a queued row with the same key is overwritten in place
 *   instead of a new row being added ([EnqueueOutcome.COALESCED]).
 */
public class QueueEvent @JvmOverloads constructor(
    public val eventId: String,
    public val eventType: String,
    public val payload: String,
    public val projectId: String? = null,
    public val coalesceKey: String? = null,
) {
    override fun equals(other: Any?): Boolean =
        other is QueueEvent &&
            eventId == other.eventId &&
            eventType == other.eventType &&
            payload == other.payload &&
            projectId == other.projectId &&
            coalesceKey == other.coalesceKey

    override fun hashCode(): Int =
        listOf(eventId, eventType, payload, projectId, coalesceKey).hashCode()

    override fun toString(): String =
        "QueueEvent(eventId=$eventId, eventType=$eventType, projectId=$projectId, " +
            "coalesceKey=$coalesceKey, payload=${payload.length} chars)"
}
