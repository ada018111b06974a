package dev.spool.samples.client

import dev.spool.queue.QueuedEvent
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import java.io.IOException
import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * Where events the server will never take are moved: a JSON Lines file in the format of
 * [dev.spool.queue.OfflineQueue.drainToFile] (`event_id`, `event_type`, `project_id`,
 * `coalesce_key`, `timestamp`, `retry_count`, `payload`), plus a `reason`. It can be fed back
 * with [dev.spool.queue.OfflineQueue.replayFile], which ignores `reason`.
 *
 * [append] forces the lines to disk before returning, and the worker deletes the rows only
 * afterwards: a crash in between leaves an event in both places (at least once), never in none.
 *
 * **Threading.** [append] is serialized; it blocks, so call it off the main thread.
 */
public class DeadLetterFile(public val path: Path) {
    /**
     * Appends one line per event, with its [reason], and forces the file to disk.
     *
     * @throws IOException if the file cannot be written.
     */
    @Synchronized
    @Throws(IOException::class)
    public fun append(events: Collection<Pair<QueuedEvent, String>>) {
        if (events.isEmpty()) return
        path.toAbsolutePath().parent?.let { Files.createDirectories(it) }
        val text = buildString { events.forEach { (event, reason) -> appendLine(event, reason) } }
        FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND).use { channel ->
            val buffer = ByteBuffer.wrap(text.toByteArray())
            while (buffer.hasRemaining()) channel.write(buffer)
            channel.force(true)
        }
    }

    /**
     * The event ids in the file, in order; empty if there is no file.
     *
     * @throws IOException if the file cannot be read.
     */
    @Throws(IOException::class)
    public fun eventIds(): List<String> {
        if (!Files.exists(path)) return emptyList()
        return Files.readAllLines(path).filter { it.isNotBlank() }.map {
            val json = Json.parseToJsonElement(it) as JsonObject
            (json["event_id"] as JsonPrimitive).content
        }
    }

    private fun StringBuilder.appendLine(event: QueuedEvent, reason: String) {
        append("{\"event_id\":").append(JsonPrimitive(event.eventId))
        append(",\"event_type\":").append(JsonPrimitive(event.eventType))
        append(",\"project_id\":").append(JsonPrimitive(event.projectId))
        append(",\"coalesce_key\":").append(JsonPrimitive(event.coalesceKey))
        append(",\"timestamp\":").append(event.timestamp.toEpochMilli())
        append(",\"retry_count\":").append(event.retryCount)
        append(",\"payload\":").append(event.payload)
        append(",\"reason\":").append(JsonPrimitive(reason))
        append("}\n")
    }

    override fun toString(): String = "DeadLetterFile($path)"
}
