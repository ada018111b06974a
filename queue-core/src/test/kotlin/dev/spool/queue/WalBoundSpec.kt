package dev.spool.queue

import dev.spool.engine.EngineListener
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import java.nio.file.Path
import java.util.concurrent.locks.LockSupport
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong

/**
 * The automatic checkpoint keeps the WAL bounded under a steady write load, even while readers
 * overlap without pause (the case where SQLite's own PASSIVE auto-checkpoint lets the WAL grow
 * forever).
 *
 * The control test shows the same policy-less queue growing its WAL past the bound when readers
 * overlap at every commit.
 *
 * Volume: `-Dspool.soak.bytes` (default 64 MiB, about two seconds). The issue's full soak is
 * `-Dspool.soak.bytes=1073741824` (1 GiB); large payloads (256 KiB) make either size quick.
 */
class WalBoundSpec : FunSpec({
    val soakBytes = System.getProperty("spool.soak.bytes")?.toLong() ?: (64L shl 20)
    val payloadChars = 256 * 1024
    val limit = 4L shl 20
    val maxBatch = 4

    test("the WAL never grows past the configured bound plus a couple of groups while readers keep overlapping") {
        val path = tempDb()
        val config = QueueConfig(walSizeLimitBytes = limit, maxBatchSize = maxBatch, maxQueueSize = 32, maxPayloadBytes = 2 shl 20)
        OfflineQueue.open(path, config).use { q ->
            val result = load(q, path, payloadChars, totalBytes = soakBytes)
            result.written shouldBeGreaterThan soakBytes - 1
            // A group of writes (maxBatch payloads) lands before the writer checkpoints; a rare
            // checkpoint that readers hold back is retried after limit / 8 more bytes and another
            // group; plus page and frame headers.
            result.maxWal shouldBeLessThan limit + limit / 8 + 2L * maxBatch * payloadChars + (1L shl 20)
            q.size() shouldBe q.sizeFromDisk()
        }
        path.parent.toFile().deleteRecursively()
    }

    test("without the policy the WAL grows past the bound while readers overlap at every commit") {
        // The control for the soak above, made deterministic: the readers are pinned to the
        // writer's commits instead of a free-running relay, so the growth below depends on no
        // thread's timing (see CommitPinnedReaders).
        val path = tempDb()
        val config = QueueConfig(walSizeLimitBytes = 0, maxBatchSize = maxBatch, maxQueueSize = 32, maxPayloadBytes = 2 shl 20)
        OfflineQueue.open(path, config).use { q ->
            val readers = CommitPinnedReaders(path)
            real(q).listeners.add(readers)
            val payload = """{"blob":"${"x".repeat(payloadChars)}"}"""
            var written = 0L
            var wal = 0L
            var i = 0
            while (wal <= 3 * limit && written < 48L shl 20) {
                q.queueEvent(QueueEvent("big-${i++}", "blob", payload))
                written += payload.length
                wal = java.io.File("$path-wal").length()
            }
            real(q).listeners.remove(readers)
            readers.close()
            readers.failure?.let { throw it }
            wal shouldBeGreaterThan 3 * limit // well past the bound asserted above
            q.size() shouldBe q.sizeFromDisk()
        }
        path.parent.toFile().deleteRecursively()
    }
})

private class Load(val written: Long, val maxWal: Long)

/**
 * Two readers pinned to the writer's commits. After every committed group (on the writer thread,
 * through the engine's listener) the idle reader begins a snapshot, and only then does the other
 * end its own. So when a commit lands, the reader begun after the previous commit is still
 * open, and it began while the reader before it still pinned that commit's frames: no checkpoint
 * could have backfilled them, so its read mark lies inside the WAL and no writer can restart the
 * WAL. Without the bound's TRUNCATE checkpoint the WAL can only grow, whatever the scheduling.
 * Failures on the writer thread (where the engine swallows them) are kept in [failure].
 */
private class CommitPinnedReaders(path: Path) : EngineListener, AutoCloseable {
    private val connections = List(2) { rawConnection(path).apply { autoCommit = false } }
    private var open = -1

    @Volatile var failure: Throwable? = null

    override fun groupCommitted(commands: Int, transactionNanos: Long) {
        try {
            val next = if (open == 0) 1 else 0
            connections[next].scalar("SELECT count(*) FROM queue") // begins its snapshot
            if (open >= 0) connections[open].rollback()
            open = next
        } catch (e: Throwable) {
            if (failure == null) failure = e
        }
    }

    override fun close() {
        for (connection in connections) {
            connection.rollback()
            connection.close()
        }
    }
}

/**
 * Two writers enqueue big events until [totalBytes] were written, sampling the WAL's size after every enqueue, while a relay of two readers
 * keeps a read transaction open at nearly every instant.
 */
private suspend fun load(q: OfflineQueue, path: Path, payloadChars: Int, totalBytes: Long): Load {
    val payload = """{"blob":"${"x".repeat(payloadChars)}"}"""
    val written = AtomicLong()
    val maxWal = AtomicLong()
    val ids = AtomicInteger()
    val stop = AtomicBoolean(false)
    val relay = Thread { readRelay(path, stop) }.apply { isDaemon = true; start() }
    try {
        coroutineScope {
            repeat(2) {
                launch(Dispatchers.Default) {
                    while (written.get() < totalBytes) {
                        q.queueEvent(QueueEvent("big-${ids.incrementAndGet()}", "blob", payload))
                        written.addAndGet(payload.length.toLong())
                        maxWal.accumulateAndGet(java.io.File("$path-wal").length(), ::maxOf)
                    }
                }
            }
        }
    } finally {
        stop.set(true)
        relay.join()
    }
    return Load(written.get(), maxWal.get())
}

/**
 * Two reader threads, each with its own connection, hand a read transaction back and forth: each
 * ends its transaction only once the other has begun a new one (or after 5 ms, so that a begin
 * held up by a checkpoint cannot deadlock the pair). At nearly every instant a snapshot is open.
 */
private fun readRelay(path: Path, stop: AtomicBoolean) {
    val turn = AtomicInteger(0)
    val began = arrayOf(AtomicLong(), AtomicLong())
    val threads = List(2) { me ->
        Thread {
            rawConnection(path).use { connection ->
                connection.autoCommit = false
                val other = 1 - me
                while (!stop.get()) {
                    while (turn.get() != me && !stop.get()) LockSupport.parkNanos(50_000)
                    connection.scalar("SELECT count(*) FROM queue") // begins the snapshot
                    began[me].incrementAndGet()
                    val seen = began[other].get()
                    turn.set(other)
                    val deadline = System.nanoTime() + 5_000_000
                    while (began[other].get() == seen && System.nanoTime() < deadline && !stop.get()) LockSupport.parkNanos(50_000)
                    connection.rollback()
                }
            }
        }.apply { isDaemon = true }
    }
    threads.forEach(Thread::start)
    threads.forEach(Thread::join)
}
