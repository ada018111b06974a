package dev.spool.queue

import kotlinx.serialization.json.JsonPrimitive
import java.io.IOException

/**
 * Writes events as JSON Lines in the format [OfflineQueue.drainToFile] writes and
 * [OfflineQueue.replayFile] reads: one object per line with `event_id`, `event_type`,
 * `project_id`, `coalesce_key`, `timestamp` (epoch milliseconds), `retry_count` and `payload`
 * (the payload embedded as JSON, not quoted), then any extra string fields, such as a
 * dead-letter `reason`. [OfflineQueue.replayFile] ignores extra fields.
 *
 * This is the one implementation of that format: `drainToFile` writes through it, and so does
 * `queue-sync`'s dead-letter file.
 *
 * **Threading.** Not thread-safe: one writer per [out], used by one thread at a time. It only
 * appends text to [out]; flushing, forcing to disk and closing are the caller's.
 *
 * **Not** a reader, and not a general JSON encoder: the payload is trusted to be valid JSON, as
 * every payload accepted by [OfflineQueue] is.
 *
 * @param out where the lines go, for example a [java.io.BufferedWriter].
 */
public class JsonLinesWriter(private val out: Appendable) {
    /**
     * Appends one line for [event], as read from a queue, followed by [extra] fields (string
     * values, in iteration order).
     *
     * @throws IllegalArgumentException if a key of [extra] is one of the standard fields (it
     *   names the key).
     * @throws IOException if [out] cannot be written.
     */
    @JvmOverloads
    @Throws(IOException::class)
    public fun write(event: QueuedEvent, extra: Map<String, String> = emptyMap()) {
        write(
            event.eventId, event.eventType, event.payload, event.projectId, event.coalesceKey,
            event.timestamp.toEpochMilli(), event.retryCount, extra,
        )
    }

    /**
     * Appends one line from a row's columns; the form `drainToFile` uses while it streams rows.
     *
     * @throws IllegalArgumentException if a key of [extra] is one of the standard fields.
     * @throws IOException if [out] cannot be written.
     */
    @Throws(IOException::class)
    internal fun write(
        eventId: String,
        eventType: String,
        payload: String,
        projectId: String?,
        coalesceKey: String?,
        timestampMillis: Long,
        retryCount: Int,
        extra: Map<String, String> = emptyMap(),
    ) {
        for (key in extra.keys) {
            require(key !in FIELDS) { "extra field '$key' would overwrite a standard field of the line" }
        }
        out.append("{\"event_id\":").append(JsonPrimitive(eventId).toString())
        out.append(",\"event_type\":").append(JsonPrimitive(eventType).toString())
        out.append(",\"project_id\":").append(JsonPrimitive(projectId).toString())
        out.append(",\"coalesce_key\":").append(JsonPrimitive(coalesceKey).toString())
        out.append(",\"timestamp\":").append(timestampMillis.toString())
        out.append(",\"retry_count\":").append(retryCount.toString())
        out.append(",\"payload\":").append(payload)
        for ((key, value) in extra) {
            out.append(',').append(JsonPrimitive(key).toString()).append(':').append(JsonPrimitive(value).toString())
        }
        out.append("}\n")
    }

    override fun toString(): String = "JsonLinesWriter"

    /** The field names of a line. */
    public companion object {
        /** The standard fields of every line, in the order they are written. */
        @JvmField
        public val FIELDS: List<String> =
            listOf("event_id", "event_type", "project_id", "coalesce_key", "timestamp", "retry_count", "payload")
    }
}
