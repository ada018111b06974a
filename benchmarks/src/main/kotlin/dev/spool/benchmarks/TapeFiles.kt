package dev.spool.benchmarks

import com.squareup.tape2.QueueFile
import dev.spool.queue.QueueEvent
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption

/**
 * Square's Tape (`QueueFile`, tape2 2.0.0-beta1) as a peer baseline, on the same disk as Spool's
 * files ([Workspace.directory]) and holding the same events.
 *
 * Tape stores bytes; an event is stored as `eventId \n eventType \n payload` in UTF-8 (the
 * encoding cost is part of every Tape figure, as serialising is part of Spool's). Tape writes
 * through a `RandomAccessFile` in `rwd` mode with its default options (zeroing removed data), so
 * each add and each remove reaches the disk before it returns: the durability of Spool's `FULL`.
 * Templates of `depth` elements are built once (every add syncs, so building takes seconds) and
 * copied per trial or invocation, like [Workspace]'s.
 */
public object TapeFiles {
    private const val TEMPLATE_VERSION = 1

    /** The bytes Tape stores for [event]. */
    public fun encode(event: QueueEvent): ByteArray =
        (event.eventId + "\n" + event.eventType + "\n" + event.payload).toByteArray(Charsets.UTF_8)

    /** A fresh copy of a Tape file holding [depth] events, named after [label], forced to disk. */
    public fun copy(depth: Int, label: String): Path {
        val template = template(depth)
        val target = Workspace.directory.resolve("$label-$depth-${ProcessHandle.current().pid()}.tape")
        Files.deleteIfExists(target)
        Files.copy(template, target, StandardCopyOption.REPLACE_EXISTING)
        FileChannel.open(target, StandardOpenOption.WRITE).use { it.force(true) }
        return target
    }

    /** Opens [file] with Tape's default options. */
    public fun open(file: Path): QueueFile = QueueFile.Builder(file.toFile()).build()

    @Synchronized
    private fun template(depth: Int): Path {
        val template = Workspace.directory.resolve("template-tape-v$TEMPLATE_VERSION-$depth.tape")
        if (Files.exists(template)) return template
        val building = Workspace.directory.resolve("building-${ProcessHandle.current().pid()}-$depth.tape")
        Files.deleteIfExists(building)
        open(building).use { queue -> repeat(depth) { queue.add(encode(Events.next())) } }
        Files.move(building, template, StandardCopyOption.ATOMIC_MOVE)
        return template
    }
}
