package dev.spool.queue

/**
 * One page of [OfflineQueue.peekPage], oldest first, as [dev.spool.tasks.TaskPage] is for tasks.
 *
 * A page may hold fewer events than asked for while [nextCursor] is not null: events
 * acknowledged through [OfflineQueue.deferredSync] but not yet deleted are left out after the
 * page was read from disk.
 *
 * @property events the events of this page, in upload (FIFO) order.
 * @property nextCursor pass it to [OfflineQueue.peekPage] for the next page; null when no event
 *   followed this page when it was read.
 */
public class EventPage(
    public val events: List<QueuedEvent>,
    public val nextCursor: EventCursor?,
) {
    override fun equals(other: Any?): Boolean = other is EventPage && other.events == events && other.nextCursor == nextCursor

    override fun hashCode(): Int = listOf(events, nextCursor).hashCode()

    override fun toString(): String = "EventPage(events=$events, nextCursor=$nextCursor)"
}
