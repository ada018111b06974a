package dev.spool.sync

import dev.spool.queue.JsonLinesWriter
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import java.io.IOException
import java.io.OutputStreamWriter
import java.nio.channels.Channels
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import kotlin.coroutines.CoroutineContext

/**
 * A [DeadLetterSink] that appends to a JSON Lines file in the format of
 * [dev.spool.queue.OfflineQueue.drainToFile], written by the same [JsonLinesWriter], plus a
 * `reason` field. [dev.spool.queue.OfflineQueue.replayFile] reads it back (ignoring `reason`), so
 * dead letters can be fixed and re-queued.
 *
 * [write] forces the lines to disk before it returns.
 *
 * **Threading.** Writes are serialized and run on [context]. [eventIds] blocks; call it off the
 * main thread.
 *
 * @param path the file; created, with its parent directories, on the first write.
 * @param context where the blocking file I/O runs.
 */
public class DeadLetterFile @JvmOverloads constructor(
    public val path: Path,
    private val context: CoroutineContext = Dispatchers.IO,
) : DeadLetterSink {
    private val lock = Any()

    /**
     * Appends one line per letter and forces the file to disk.
     *
     * @throws IOException if the file cannot be written.
     */
    @Throws(IOException::class)
    override suspend fun write(letters: List<DeadLetter>) {
        if (letters.isEmpty()) return
        withContext(context) { append(letters) }
    }

    private fun append(letters: List<DeadLetter>) = synchronized(lock) {
        path.toAbsolutePath().parent?.let { Files.createDirectories(it) }
        FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND).use { channel ->
            val writer = OutputStreamWriter(Channels.newOutputStream(channel), Charsets.UTF_8).buffered()
            val lines = JsonLinesWriter(writer)
            for (letter in letters) lines.write(letter.event, mapOf(REASON to letter.reason))
            writer.flush()
            channel.force(true)
        }
    }

    /**
     * The event ids in the file, in order; empty if there is no file yet.
     *
     * @throws IOException if the file cannot be read.
     * @throws IllegalArgumentException if a line is not a dead letter (it names the line).
     */
    @Throws(IOException::class)
    public fun eventIds(): List<String> {
        if (!Files.exists(path)) return emptyList()
        return Files.readAllLines(path).withIndex().filter { it.value.isNotBlank() }.map { (index, line) ->
            val id = runCatching { ((Json.parseToJsonElement(line) as JsonObject)["event_id"] as JsonPrimitive).content }.getOrNull()
            requireNotNull(id) { "line ${index + 1} of $path has no event_id" }
        }
    }

    override fun toString(): String = "DeadLetterFile($path)"

    /** The extra field of each line. */
    public companion object {
        /** The field holding a dead letter's [DeadLetter.reason]. */
        public const val REASON: String = "reason"
    }
}
