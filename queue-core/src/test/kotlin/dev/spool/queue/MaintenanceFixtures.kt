package dev.spool.queue

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import java.nio.file.Path
import java.sql.Connection
import java.sql.DriverManager
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger

/** What [whileWriting] saw: the block's result and how many events the writers committed. */
class Written<T>(val result: T, val before: Int, val after: Int)

/**
 * Runs [block] while [writers] coroutines keep enqueueing unique events into [queue]; waits for
 * the writers to be under way first, and after [block] for at least one write to commit after
 * it. Any writer failure fails the test.
 */
suspend fun <T> whileWriting(queue: OfflineQueue, writers: Int = 3, block: suspend () -> T): Written<T> = coroutineScope {
    val stop = AtomicBoolean(false)
    val written = AtomicInteger()
    val jobs = List(writers) { w ->
        launch(Dispatchers.Default) {
            var i = 0
            while (!stop.get()) {
                queue.queueEvent(QueueEvent("w$w-${i++}", "write", """{"w":$w,"i":$i}"""))
                written.incrementAndGet()
            }
        }
    }
    while (written.get() < 20) delay(1)
    val before = written.get()
    val result = try {
        block().also {
            // Still writing when the block returns: at least one more write commits after it
            // (each writer may count one write that committed before, hence `+ writers`).
            val returned = written.get()
            while (written.get() <= returned + writers) delay(1)
        }
    } finally {
        stop.set(true)
        jobs.joinAll()
    }
    Written(result, before, written.get())
}

/** A plain JDBC connection to [path], outside any queue. */
fun rawConnection(path: Path): Connection = DriverManager.getConnection("jdbc:sqlite:$path")

fun Connection.scalar(sql: String): Long = createStatement().use { st -> st.executeQuery(sql).use { it.next(); it.getLong(1) } }

/** Damages [path]'s FIFO index so that `PRAGMA integrity_check` reports it (and opening still works). */
fun corruptIndex(path: Path) {
    rawConnection(path).use { c ->
        c.createStatement().use { st ->
            st.execute("PRAGMA writable_schema = ON")
            st.execute("UPDATE sqlite_schema SET sql = 'CREATE INDEX queue_fifo ON queue(retry_count, id)' WHERE name = 'queue_fifo'")
            st.execute("PRAGMA writable_schema = OFF")
        }
    }
}

/** The database file plus its WAL, in bytes: what the queue costs on disk. */
fun diskBytes(path: Path): Long =
    listOf("", "-wal").sumOf { java.io.File("$path$it").length() }

val roomy = QueueConfig(maxQueueSize = 2_000_000)
