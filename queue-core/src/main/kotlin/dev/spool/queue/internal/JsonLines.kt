package dev.spool.queue.internal

import dev.spool.queue.InvalidEventException
import dev.spool.queue.JsonLinesWriter
import dev.spool.queue.QueueEvent
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import java.io.BufferedWriter
import java.io.IOException
import java.io.OutputStreamWriter
import java.nio.channels.Channels
import java.nio.channels.FileChannel
import java.nio.file.AtomicMoveNotSupportedException
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.sql.ResultSet
import org.jetbrains.exposed.v1.core.Column

/** One exported row, as read back by [readJsonLines]. */
internal class ExportedRow(val event: QueueEvent, val timestamp: Long, val retryCount: Int)

/**
 * Writes the current row of [rs] (a result of [EXPORT_QUERY]) as one JSON line through the public
 * [JsonLinesWriter], reading the columns by their [QueueTable] names.
 */
internal fun JsonLinesWriter.writeRow(rs: ResultSet) {
    write(
        eventId = rs.getString(QueueTable.eventId.sql),
        eventType = rs.getString(QueueTable.eventType.sql),
        payload = rs.getString(QueueTable.payload.sql),
        projectId = rs.getString(QueueTable.projectId.sql),
        coalesceKey = rs.getString(QueueTable.coalesceKey.sql),
        timestampMillis = rs.getLong(QueueTable.timestamp.sql),
        retryCount = rs.getInt(QueueTable.retryCount.sql),
    )
}

/**
 * Writes a file the safe way: into a temporary sibling, forced to disk, then atomically moved
 * onto [target]. The temporary file is removed if anything fails.
 */
internal fun <T> writeAtomically(target: Path, body: (BufferedWriter) -> T): T {
    val absolute = target.toAbsolutePath()
    absolute.parent?.let { Files.createDirectories(it) }
    val temp = Files.createTempFile(absolute.parent, ".${absolute.fileName}.", ".tmp")
    try {
        val result = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING).use { channel ->
            val writer = BufferedWriter(OutputStreamWriter(Channels.newOutputStream(channel), Charsets.UTF_8), 1 shl 16)
            val value = body(writer)
            writer.flush()
            channel.force(true)
            value
        }
        try {
            Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
        } catch (e: AtomicMoveNotSupportedException) {
            throw IOException("Cannot move ${temp.fileName} onto $absolute atomically", e)
        }
        forceDirectory(absolute.parent)
        return result
    } catch (t: Throwable) {
        Files.deleteIfExists(temp)
        throw t
    }
}

private fun forceDirectory(directory: Path?) {
    if (directory == null) return
    // Persists the rename itself; not every platform can open a directory, which is fine.
    runCatching { FileChannel.open(directory, StandardOpenOption.READ).use { it.force(true) } }
}

/** Reads a file written by `drainToFile`; a malformed line fails with its line number. */
internal fun readJsonLines(path: Path): List<ExportedRow> {
    val rows = ArrayList<ExportedRow>()
    Files.newBufferedReader(path, Charsets.UTF_8).useLines { lines ->
        lines.forEachIndexed { index, line ->
            if (line.isNotBlank()) rows += parseLine(line, index + 1, path)
        }
    }
    return rows
}

private fun parseLine(line: String, number: Int, path: Path): ExportedRow {
    try {
        val json = Json.parseToJsonElement(line).jsonObject
        fun text(column: Column<*>): String? =
            (json[column.sql] as? JsonPrimitive)?.takeUnless { it is JsonNull }?.contentOrNull
        fun required(column: Column<*>): String = text(column) ?: throw IllegalArgumentException("no ${column.sql}")
        val payload = json[QueueTable.payload.sql] ?: throw IllegalArgumentException("no ${QueueTable.payload.sql}")
        return ExportedRow(
            event = QueueEvent(
                eventId = required(QueueTable.eventId),
                eventType = required(QueueTable.eventType),
                payload = payload.toString(),
                projectId = text(QueueTable.projectId),
                coalesceKey = text(QueueTable.coalesceKey),
            ),
            timestamp = json[QueueTable.timestamp.sql]?.jsonPrimitive?.long
                ?: throw IllegalArgumentException("no ${QueueTable.timestamp.sql}"),
            retryCount = text(QueueTable.retryCount)?.toInt() ?: 0,
        )
    } catch (e: IllegalArgumentException) {
        throw InvalidEventException("line $number of $path", e.message ?: "malformed", e)
    }
}

