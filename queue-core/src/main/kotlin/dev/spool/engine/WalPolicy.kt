package dev.spool.engine

import dev.spool.storage.CheckpointMode
import org.slf4j.Logger
import java.nio.file.Path
import java.sql.Connection
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/**
 * The automatic checkpoint: keeps the WAL near [limitBytes] under a steady write load. Writer
 * thread only, called after each committed group, outside any transaction.
 *
 * SQLite's own auto-checkpoint (PASSIVE, every 1000 pages) never waits for readers, so while
 * readers overlap without pause the WAL can never restart and grows without bound. Here, when
 * a commit leaves the WAL above the limit, the writer runs a TRUNCATE checkpoint, which waits for
 * readers of older snapshots to move on and then cuts the file to zero. The WAL therefore stays
 * within the limit plus one group of writes.
 *
 * The wait is short, [ATTEMPT_TIMEOUT] at most (or the configured busy timeout if shorter),
 * because the queue's writes wait meanwhile. Under readers that overlap without pause a
 * checkpoint occasionally cannot finish in that time (SQLite can leave a reader on an old read
 * mark). It then logs [LogEvents.CHECKPOINT_FAILED] (throttled) and tries again once the WAL
 * has grown by another eighth of the limit, so the WAL overshoots by a few groups at worst,
 * and a reader that holds one snapshot for minutes costs writers one short stall per
 * [limitBytes] / 8 written, not one per commit.
 *
 * Cost per commit: one `stat` of the WAL file.
 */
internal class WalPolicy(
    private val database: Path,
    private val limitBytes: Long,
    busyTimeout: Duration,
    private val name: String,
    private val kind: QueueKind,
    private val logger: Logger,
    /** Taken around the checkpoint, so it never collides with another checkpoint of this process. */
    private val checkpointLock: java.util.concurrent.locks.Lock,
) {
    private val configuredMillis = busyTimeout.inWholeMilliseconds.coerceAtMost(Int.MAX_VALUE.toLong())
    private val attemptMillis = minOf(busyTimeout, ATTEMPT_TIMEOUT).inWholeMilliseconds
    private val failures = ThrottledCount()
    private var threshold = limitBytes

    fun afterGroup(connection: Connection) {
        val size = walSize(database)
        if (size <= threshold) return
        val failure = try {
            connection.execute("PRAGMA busy_timeout = $attemptMillis")
            val result = try {
                checkpointLock.lock()
                try {
                    connection.checkpoint(CheckpointMode.TRUNCATE)
                } finally {
                    checkpointLock.unlock()
                }
            } finally {
                connection.execute("PRAGMA busy_timeout = $configuredMillis")
            }
            if (result.completed) null
            else "busy after checkpointing ${result.checkpointedFrames} of ${result.walFrames} frames: readers held it"
        } catch (e: java.sql.SQLException) {
            e.toString()
        }
        if (failure == null) {
            threshold = limitBytes
        } else {
            threshold = size + (limitBytes / 8).coerceAtLeast(1)
            if (failures.add(1) != null) {
                LogEvents.warn(logger, "queue.checkpoint_failed", name, kind.checkpointFailed, CheckpointMode.TRUNCATE, size, failure)
            }
        }
    }

    companion object {
        /** The longest the automatic checkpoint holds the writer waiting for readers. */
        val ATTEMPT_TIMEOUT: Duration = 250.milliseconds
    }
}
