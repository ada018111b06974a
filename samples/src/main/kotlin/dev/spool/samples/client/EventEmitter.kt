package dev.spool.samples.client

import dev.spool.queue.EnqueueResult
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueEvent
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import java.util.UUID

/**
 * What the app calls to record events: it writes to the [OfflineQueue] and never touches the
 * network, so emitting works the same offline and online.
 *
 * Screen-state events coalesce: [screenState] uses the coalescing key `screen:<screenId>`, so
 * the queue keeps only the latest state of each screen that has not been uploaded yet.
 *
 * **Threading.** Safe to call from any coroutine, concurrently; concurrent calls share the
 * queue's group commits. Each call suspends until its event is durable on disk.
 *
 * @param newId how event ids are made; random UUIDs by default.
 */
public class EventEmitter(
    private val queue: OfflineQueue,
    private val newId: () -> String = { UUID.randomUUID().toString() },
) {
    /**
     * Records an event of [type] with [properties] as its payload.
     *
     * @throws dev.spool.queue.InvalidEventException if [type] is blank or the payload is too large.
     * @throws dev.spool.storage.QueueStorageException if the write fails.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun track(type: String, properties: JsonObject = EMPTY, eventId: String = newId()): EnqueueResult =
        queue.queueEvent(QueueEvent(eventId, type, properties.toString()))

    /**
     * Records the latest [state] of screen [screenId], replacing any state of that screen still
     * waiting in the queue ([dev.spool.queue.EnqueueOutcome.COALESCED]).
     *
     * @throws dev.spool.queue.InvalidEventException if [screenId] is blank or the payload is too large.
     * @throws dev.spool.storage.QueueStorageException if the write fails.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun screenState(screenId: String, state: JsonObject, eventId: String = newId()): EnqueueResult {
        val payload = JsonObject(state + ("screen_id" to JsonPrimitive(screenId)))
        return queue.queueEvent(QueueEvent(eventId, SCREEN_STATE, payload.toString(), coalesceKey = "screen:$screenId"))
    }

    /** Event type names. */
    public companion object {
        /** The event type of [screenState] events. */
        public const val SCREEN_STATE: String = "screen_state"

        private val EMPTY = JsonObject(emptyMap())
    }
}
