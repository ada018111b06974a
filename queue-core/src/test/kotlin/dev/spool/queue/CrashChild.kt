package dev.spool.queue

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import java.io.FileDescriptor
import java.io.FileOutputStream
import java.io.PrintStream
import java.nio.file.Path

/**
 * The child of [CrashSpec]: enqueues forever from several concurrent callers and prints
 * `ack <eventId>` once each enqueue has returned, that is once its transaction committed.
 *
 * Args: database path, id prefix, number of concurrent callers. Caller `w` enqueues
 * `<prefix>w<w>-0`, `<prefix>w<w>-1`, ... one after the other, so on disk each caller's events
 * must be a gap-free prefix of its sequence.
 */
object CrashChild {
    @JvmStatic
    fun main(args: Array<String>) {
        val (db, prefix, workers) = Triple(Path.of(args[0]), args[1], args[2].toInt())
        val out = PrintStream(FileOutputStream(FileDescriptor.out), false, Charsets.UTF_8)
        val queue = OfflineQueue.open(db)
        out.println("ready")
        out.flush()
        runBlocking(Dispatchers.Default) {
            repeat(workers) { w ->
                launch {
                    var i = 0
                    while (true) {
                        val id = "${prefix}w$w-$i"
                        queue.queueEvent(QueueEvent(id, "crash", """{"w":$w,"i":$i}"""))
                        synchronized(out) {
                            out.println("ack $id")
                            out.flush()
                        }
                        i++
                    }
                }
            }
        }
    }
}
