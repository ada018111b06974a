package dev.spool.samples.server

import kotlinx.serialization.json.JsonObject

/**
 * The server's storage: events in memory, deduplicated by `event_id`.
 *
 * An id is stored once; a later event with the same id is counted as a duplicate and not stored
 * again, whatever its content. This is what makes at-least-once delivery from the client
 * exactly-once on the server.
 *
 * **Threading.** All members are safe to call from any thread; [accept] is atomic per event.
 */
public class EventStore {
    private val events = LinkedHashMap<String, JsonObject>()
    private var received = 0
    private var duplicates = 0
    private var errors = 0

    /** Stores [event] under [eventId] unless that id is already stored; returns whether it was new. */
    @Synchronized
    public fun accept(eventId: String, event: JsonObject): Boolean {
        received++
        if (eventId in events) {
            duplicates++
            return false
        }
        events[eventId] = event
        return true
    }

    /** Counts one event answered `error` (not stored). */
    @Synchronized
    public fun countError() {
        received++
        errors++
    }

    /** How many distinct events are stored. */
    @Synchronized
    public fun count(): Int = events.size

    /** The stored event ids, in the order they were first stored. */
    @Synchronized
    public fun ids(): List<String> = events.keys.toList()

    /** The stored events, in the order they were first stored. */
    @Synchronized
    public fun events(): List<JsonObject> = events.values.toList()

    /** A snapshot of the counters. */
    @Synchronized
    public fun counters(): Counters = Counters(count = events.size, received = received, duplicates = duplicates, errors = errors)

    /** Forgets every event and counter. */
    @Synchronized
    public fun clear() {
        events.clear()
        received = 0
        duplicates = 0
        errors = 0
    }

    /**
     * The store's counters at one moment.
     *
     * @property count distinct events stored.
     * @property received events received in batches that were parsed, including duplicates and
     *   errors.
     * @property duplicates events received whose id was already stored (redeliveries).
     * @property errors events answered `error`.
     */
    public data class Counters(val count: Int, val received: Int, val duplicates: Int, val errors: Int)
}
