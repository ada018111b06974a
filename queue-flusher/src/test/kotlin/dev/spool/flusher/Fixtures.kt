package dev.spool.flusher

import dev.spool.queue.BlockingOfflineQueue
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import java.nio.file.Files
import java.nio.file.Path
import kotlin.time.Duration

/** A fresh database path in its own directory. */
fun tempDb(): Path = Files.createTempDirectory("spool-flusher-test").resolve("queue.db")

/** A small valid event; [n] makes the id and payload unique. */
fun event(n: Int, coalesceKey: String? = null, id: String = "e$n", payload: String = """{"n":$n}"""): QueueEvent =
    QueueEvent(id, "click", payload, null, coalesceKey)

fun ids(vararg n: Int): List<String> = n.map { "e$it" }

/** Opens a queue at a fresh path, runs [block] and closes it. */
suspend fun <T> withQueue(config: QueueConfig = QueueConfig(), path: Path = tempDb(), block: suspend (OfflineQueue) -> T): T =
    OfflineQueue.open(path, config).use { block(it) }

/** An eventId no test enqueues. */
private val BARRIER = listOf("\u0000barrier")

/**
 * A write through the queue's single writer that changes nothing. The writer is FIFO, so once it
 * returns, every write sent before it (such as a flush the timer just fired) has committed or failed.
 */
suspend fun OfflineQueue.barrier() {
    incrementRetry(BARRIER)
}

/** [barrier] for the blocking facade: blocks the thread, so a test scheduler cannot advance meanwhile. */
fun BlockingOfflineQueue.barrier() {
    incrementRetry(BARRIER)
}

/** Never fires a batch on its own: only flush() and close() delete. */
val manual = FlusherConfig(maxBatch = Int.MAX_VALUE, maxDelay = Duration.INFINITE)

/** Runs [block] with a flusher on a real scope, closing both afterwards. */
suspend fun <T> OfflineQueue.withFlusher(config: FlusherConfig = manual, block: suspend (SyncedRowFlusher) -> T): T {
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    try {
        return SyncedRowFlusher(this, config, scope).use { block(it) }
    } finally {
        scope.cancel()
    }
}

/**
 * A scope on a StandardTestDispatcher that nothing drives but the test: the flusher's timer sees
 * only the virtual time the test advances, while queue calls from the test itself run for real.
 */
@OptIn(kotlinx.coroutines.ExperimentalCoroutinesApi::class)
class VirtualClock : AutoCloseable {
    val scheduler = kotlinx.coroutines.test.TestCoroutineScheduler()
    val scope = CoroutineScope(SupervisorJob() + kotlinx.coroutines.test.StandardTestDispatcher(scheduler))

    /** Runs what is due now: for example the timer woken by markSynced. */
    fun runCurrent() = scheduler.runCurrent()

    /** Moves virtual time forward by [by] and runs everything due up to and including then. */
    fun advance(by: Duration) {
        scheduler.advanceTimeBy(by)
        scheduler.runCurrent()
    }

    /** Lets the timer fire what is due, waits for its delete to commit (or fail), and lets the timer see the result. */
    suspend fun settle(queue: OfflineQueue) {
        runCurrent()
        runCatching { queue.barrier() }
        runCurrent()
    }

    override fun close() = scope.cancel()
}
