package dev.spool.engine

import dev.spool.storage.CheckpointMode
import dev.spool.storage.Durability
import org.slf4j.Logger
import java.nio.file.Path
import java.sql.Connection
import java.sql.SQLException
import java.util.concurrent.Semaphore
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock
import kotlin.time.Duration

/**
 * Checkpoints the WAL from a connection and thread of its own, so the writer's commits never pay
 * for copying pages back into the database and syncing it.
 *
 * The writer connection runs with `wal_autocheckpoint = 0`. After each committed group the
 * writer calls [committed], which costs a permit check (and, after an idle spell, one unpark).
 * The checkpointer then runs a PASSIVE checkpoint, at most one per [interval]: PASSIVE never
 * waits for readers or writers, and once a checkpoint has caught up SQLite starts reusing the WAL
 * from its beginning, so under a steady load the WAL stays near what [interval] of writes
 * produces. [WalPolicy] remains the hard bound when readers keep a checkpoint from catching up.
 *
 * SQLite refuses a second concurrent checkpoint at once, with SQLITE_BUSY and without calling
 * the busy handler. So this process's other checkpoints (the [WalPolicy] and `Maintenance`) take
 * [lock] first: they wait for a background checkpoint in progress instead of failing.
 *
 * Measured in the benchmarks module (S1, `benchmarks/run.sh quick`, A/B on one machine): see
 * the benchmark report for the figures.
 */
internal class BackgroundCheckpointer(
    private val database: Path,
    private val durability: Durability,
    private val busyTimeout: Duration,
    private val name: String,
    private val kind: QueueKind,
    private val logger: Logger,
    private val interval: Duration,
) : AutoCloseable {
    /** Held while any checkpoint of this queue runs; see the class documentation. */
    val lock: ReentrantLock = ReentrantLock()
    private val wake = Semaphore(0)
    @Volatile private var running = true
    private val failures = ThrottledCount()
    private val thread = Thread(::loop, "spool-checkpointer-$name").apply {
        isDaemon = true
        start()
    }

    /** A group committed: the WAL grew. Writer thread. */
    fun committed() {
        if (wake.availablePermits() == 0) wake.release()
    }

    private fun loop() {
        var connection: Connection? = null
        try {
            while (running) {
                wake.acquire()
                wake.drainPermits()
                if (!running) break
                try {
                    val c = connection ?: openConnection(database, durability, busyTimeout).also { connection = it }
                    lock.withLock { c.checkpoint(CheckpointMode.PASSIVE) }
                } catch (e: SQLException) {
                    // Busy (another checkpoint runs) or I/O: the next commit asks again; WalPolicy bounds the WAL.
                    if (failures.add(1) != null) {
                        LogEvents.warn(logger, "queue.checkpoint_failed", name, kind.checkpointFailed, CheckpointMode.PASSIVE, walSize(database), e.toString())
                    }
                }
                Thread.sleep(interval.inWholeMilliseconds)
            }
        } catch (_: InterruptedException) {
            // close() while sleeping.
        } finally {
            runCatching { connection?.close() }
        }
    }

    /**
     * Stops the thread and closes its connection; waits for a checkpoint in progress, even on an
     * interrupted thread (whose interrupt flag stays set).
     */
    override fun close() {
        if (!running) return
        running = false
        wake.release()
        thread.interrupt()
        thread.joinUninterruptibly()
    }
}
