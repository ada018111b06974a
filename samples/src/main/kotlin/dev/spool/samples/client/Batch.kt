package dev.spool.samples.client

import dev.spool.queue.QueuedEvent
import kotlinx.serialization.json.JsonPrimitive
import java.io.ByteArrayOutputStream
import java.util.zip.GZIPOutputStream

/**
 * Events to upload together and their JSON body `{"events":[…]}` (see [dev.spool.samples.Wire]),
 * built by [BatchPlanner].
 *
 * @property events the events, oldest first.
 * @property body the uncompressed JSON body; its size is what the server's byte limit applies to.
 */
public class Batch internal constructor(
    public val events: List<QueuedEvent>,
    private val encoded: List<ByteArray>,
) {
    init {
        require(events.isNotEmpty()) { "a batch must hold at least one event" }
    }

    /** The uncompressed JSON body. */
    public val body: ByteArray by lazy {
        val out = ByteArrayOutputStream(sizeOf(encoded))
        out.write(PREFIX)
        encoded.forEachIndexed { i, bytes ->
            if (i > 0) out.write(','.code)
            out.write(bytes)
        }
        out.write(SUFFIX)
        out.toByteArray()
    }

    /** [body], gzip-compressed, as sent over the wire. */
    public fun gzipped(): ByteArray {
        val out = ByteArrayOutputStream(body.size / 4 + 64)
        GZIPOutputStream(out).use { it.write(body) }
        return out.toByteArray()
    }

    /**
     * The two halves of this batch, for a retry after 413.
     *
     * @throws IllegalStateException if the batch holds a single event.
     */
    public fun halves(): Pair<Batch, Batch> {
        check(events.size > 1) { "a batch of one event cannot be split" }
        val mid = events.size / 2
        return Batch(events.subList(0, mid), encoded.subList(0, mid)) to
            Batch(events.subList(mid, events.size), encoded.subList(mid, events.size))
    }

    override fun toString(): String = "Batch(${events.size} events, ${body.size} bytes)"

    internal companion object {
        private val PREFIX = "{\"events\":[".toByteArray()
        private val SUFFIX = "]}".toByteArray()

        /** The body size of a batch of [encoded] events: envelope, events and commas. */
        fun sizeOf(encoded: List<ByteArray>): Int =
            PREFIX.size + SUFFIX.size + encoded.sumOf { it.size } + maxOf(0, encoded.size - 1)

        /** The body size added by one more event of [bytes] to a batch of [count] events. */
        fun added(count: Int, bytes: Int): Int = bytes + if (count > 0) 1 else 0

        /** The envelope's size, for an empty batch. */
        val envelope: Int get() = PREFIX.size + SUFFIX.size

        /** One event as JSON: `event_id`, `event_type`, `project_id` if any, `timestamp`, `payload`. */
        fun encode(event: QueuedEvent): ByteArray = buildString(event.payload.length + 128) {
            append("{\"event_id\":").append(JsonPrimitive(event.eventId))
            append(",\"event_type\":").append(JsonPrimitive(event.eventType))
            event.projectId?.let { append(",\"project_id\":").append(JsonPrimitive(it)) }
            append(",\"timestamp\":").append(event.timestamp.toEpochMilli())
            append(",\"payload\":").append(event.payload)
            append('}')
        }.toByteArray()
    }
}
