package dev.spool.queue.internal

import dev.spool.queue.CheckpointMode
import org.slf4j.Logger
import java.nio.file.Path
import java.sql.Connection

/**
 * The automatic checkpoint: keeps the WAL near [limitBytes] under a steady write load. Writer
 * thread only, called after each committed group, outside any transaction.
 *
 * SQLite's own auto-checkpoint (PASSIVE, every 1000 pages) never waits for readers, so while
 * readers overlap without pause the WAL can never restart and grows without bound. Here, when
 * a commit leaves the WAL above the limit, the writer runs a TRUNCATE checkpoint, which waits (up
 * to the busy timeout) for readers of older snapshots to move on and then cuts the file to zero.
 * The WAL therefore never exceeds the limit by more than one group of writes, as long as readers
 * do not hold one snapshot for longer than the busy timeout.
 *
 * When the checkpoint cannot complete it logs [LogEvents.CHECKPOINT_FAILED] and backs off: the
 * next attempt waits until the WAL has grown by another [limitBytes], so a stuck reader costs one
 * busy-timeout stall per [limitBytes] written, not one per commit.
 *
 * While it waits, the queue's writes wait too (bounded by the busy timeout). One reader pattern
 * defeats it: a thread that keeps one read transaction open while it starts another on a second
 * connection can be held up by the checkpoint while holding the old snapshot the checkpoint waits
 * for; the checkpoint then gives up after the busy timeout, and the back-off above applies.
 *
 * Cost per commit: one `stat` of the WAL file.
 */
internal class WalPolicy(
    private val database: Path,
    private val limitBytes: Long,
    private val name: String,
    private val logger: Logger,
) {
    private var threshold = limitBytes

    fun afterGroup(connection: Connection) {
        val size = walSize(database)
        if (size <= threshold) return
        val failure = try {
            val result = connection.checkpoint(CheckpointMode.TRUNCATE)
            if (result.completed) null
            else "busy after checkpointing ${result.checkpointedFrames} of ${result.walFrames} frames: readers held it past the busy timeout"
        } catch (e: java.sql.SQLException) {
            e.toString()
        }
        if (failure == null) {
            threshold = limitBytes
        } else {
            threshold = size + limitBytes
            LogEvents.warn(logger, "queue.checkpoint_failed", name, LogEvents.CHECKPOINT_FAILED, CheckpointMode.TRUNCATE, size, failure)
        }
    }
}
