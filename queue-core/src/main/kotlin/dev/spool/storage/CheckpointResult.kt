package dev.spool.storage

/**
 * What one WAL checkpoint did, from [Maintenance.checkpoint][dev.spool.maintenance.Maintenance.checkpoint].
 *
 * @property completed false when SQLite had to give up (a reader or another connection's writer
 *   held it back past [QueueConfig.busyTimeout][dev.spool.queue.QueueConfig.busyTimeout]); the WAL is then left partly checkpointed, which
 *   is harmless, and a later checkpoint finishes the job.
 * @property walFrames frames in the WAL when the checkpoint ran (0 after a completed TRUNCATE
 *   reports what was there before it was truncated, as SQLite does), or -1 if unknown.
 * @property checkpointedFrames frames copied into the database file, or -1 if unknown.
 */
public class CheckpointResult(
    public val completed: Boolean,
    public val walFrames: Int,
    public val checkpointedFrames: Int,
) {
    override fun equals(other: Any?): Boolean =
        other is CheckpointResult && completed == other.completed && walFrames == other.walFrames &&
            checkpointedFrames == other.checkpointedFrames

    override fun hashCode(): Int = (if (completed) 1 else 0) * 961 + walFrames * 31 + checkpointedFrames

    override fun toString(): String =
        "CheckpointResult(completed=$completed, walFrames=$walFrames, checkpointedFrames=$checkpointedFrames)"
}
