package dev.spool.sync

import dev.spool.queue.QueuedEvent

/**
 * An event the server will never take, on its way to a [DeadLetterSink].
 *
 * @property event the event, as it was read from the queue and uploaded.
 * @property reason why: the server's message for a permanent failure, the last rejection once
 *   [SyncConfig.maxRejections] is exceeded, or the size refusal of a single event.
 */
public class DeadLetter(public val event: QueuedEvent, public val reason: String) {
    override fun toString(): String = "DeadLetter(${event.eventId}: $reason)"
}
