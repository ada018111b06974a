package dev.spool.queue

import dev.spool.queue.internal.RealOfflineQueue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import kotlinx.coroutines.runInterruptible
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import java.sql.DriverManager
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/** The engine behind [queue], for the internal test hooks. */
internal fun real(queue: OfflineQueue): RealOfflineQueue = queue as RealOfflineQueue

/**
 * Holds the queue's single writer inside a transaction until [release], so a test can line up
 * commands behind it and know exactly which of them the writer will group together next.
 */
internal class WriterGate private constructor(private val queue: RealOfflineQueue) {
    private val held = CountDownLatch(1)
    private val released = CountDownLatch(1)
    lateinit var job: Job
        private set

    /** Lets the writer commit the gate's (empty) transaction and take the commands waiting. */
    fun release() = released.countDown()

    companion object {
        /** Returns once the writer is blocked inside the gate. */
        suspend fun CoroutineScope.holdWriter(queue: OfflineQueue): WriterGate {
            val gate = WriterGate(real(queue))
            gate.job = launch(Dispatchers.IO) {
                gate.queue.onWriter {
                    gate.held.countDown()
                    check(gate.released.await(60, TimeUnit.SECONDS)) { "writer gate never released" }
                }
            }
            runInterruptible(Dispatchers.IO) {
                check(gate.held.await(60, TimeUnit.SECONDS)) { "writer never reached the gate" }
            }
            return gate
        }
    }
}

/** Spins until [condition] holds; fails after 60 seconds rather than hanging the suite. */
suspend fun awaitCondition(what: String, condition: suspend () -> Boolean) {
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
    while (!condition()) {
        check(System.nanoTime() < deadline) { "timed out waiting until $what" }
        Thread.yield()
    }
}

/** Runs [block] on a plain JDBC connection to [db], outside any queue. */
fun <T> withJdbc(db: Path, block: (java.sql.Connection) -> T): T =
    DriverManager.getConnection("jdbc:sqlite:${db.toAbsolutePath()}").use(block)

/** The single integer a query returns. */
fun java.sql.Connection.queryInt(sql: String): Int =
    createStatement().use { s -> s.executeQuery(sql).use { it.next(); it.getInt(1) } }

/**
 * Records, in the file itself, the largest number of rows the `queue` table ever held after an
 * INSERT committed, whoever wrote it. The queue's schema must already exist.
 */
fun installCapWatch(db: Path) = withJdbc(db) { c ->
    c.createStatement().use { s ->
        s.execute("CREATE TABLE cap_watch (max_rows INTEGER NOT NULL)")
        s.execute("INSERT INTO cap_watch VALUES (0)")
        s.execute(
            "CREATE TRIGGER cap_watch_insert AFTER INSERT ON queue BEGIN " +
                "UPDATE cap_watch SET max_rows = max(max_rows, (SELECT COUNT(*) FROM queue)); END",
        )
    }
}

/** The high-water mark recorded by [installCapWatch]. */
fun capHighWater(db: Path): Int = withJdbc(db) { it.queryInt("SELECT max_rows FROM cap_watch") }

/**
 * Makes [path] really unwritable, even for root: `chattr +i` (root ignores permission bits), or
 * the permission bits when not root. Returns how, or null if neither works here; in that case
 * the file is left as it was. Undo with [makeWritable].
 */
fun makeReadOnly(path: Path): String? {
    if (runQuietly("chattr", "+i", path.toString()) && !isWritable(path)) return "chattr +i"
    runQuietly("chattr", "-i", path.toString())
    if (path.toFile().setWritable(false, false) && !isWritable(path)) return "chmod a-w"
    path.toFile().setWritable(true)
    return null
}

/** Undoes [makeReadOnly]. */
fun makeWritable(path: Path) {
    runQuietly("chattr", "-i", path.toString())
    path.toFile().setWritable(true)
}

/** Whether a read-only file can be made here at all (see [makeReadOnly]); probes a scratch file. */
val readOnlyFilesPossible: Boolean by lazy {
    val probe = Files.createTempFile("spool-ro-probe", ".bin")
    try {
        makeReadOnly(probe) != null
    } finally {
        makeWritable(probe)
        Files.deleteIfExists(probe)
    }
}

private fun isWritable(path: Path): Boolean = try {
    if (Files.isDirectory(path)) {
        Files.delete(Files.createTempFile(path, "probe", ".tmp"))
    } else {
        Files.newOutputStream(path, StandardOpenOption.WRITE, StandardOpenOption.APPEND).close()
    }
    true
} catch (e: java.io.IOException) {
    false
}

private fun runQuietly(vararg command: String): Boolean = try {
    val process = ProcessBuilder(*command).redirectErrorStream(true).start()
    process.inputStream.readAllBytes()
    process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0
} catch (e: java.io.IOException) {
    false
}
