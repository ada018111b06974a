package dev.spool.queue.internal

import dev.spool.engine.utf8Length
import dev.spool.queue.InvalidEventException
import dev.spool.queue.QueueEvent
import kotlinx.serialization.json.Json

internal const val MAX_EVENT_ID_LENGTH = 256

/**
 * Checks [event] against the queue's rules on the caller's thread, before it reaches the writer,
 * so a bad event never costs the writer anything and never touches the disk.
 */
internal fun validate(event: QueueEvent, maxPayloadBytes: Int) {
    if (event.eventId.isBlank()) throw InvalidEventException("eventId", "must not be blank")
    if (event.eventId.length > MAX_EVENT_ID_LENGTH) {
        throw InvalidEventException(
            "eventId",
            "must be at most $MAX_EVENT_ID_LENGTH characters, was ${event.eventId.length}",
        )
    }
    if (event.eventType.isBlank()) throw InvalidEventException("eventType", "must not be blank")
    if (event.projectId?.isBlank() == true) throw InvalidEventException("projectId", "must be null or not blank")
    if (event.coalesceKey?.isBlank() == true) throw InvalidEventException("coalesceKey", "must be null or not blank")
    val bytes = utf8Length(event.payload)
    if (bytes > maxPayloadBytes) {
        throw InvalidEventException("payload", "is $bytes bytes, larger than maxPayloadBytes ($maxPayloadBytes)")
    }
    try {
        Json.parseToJsonElement(event.payload)
    } catch (e: IllegalArgumentException) {
        throw InvalidEventException("payload", "is not valid JSON: ${e.message?.lineSequence()?.firstOrNull()}", e)
    }
}
