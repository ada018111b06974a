package dev.spool.storage

/**
 * How hard [Maintenance.checkpoint][dev.spool.maintenance.Maintenance.checkpoint] works to move the WAL's pages into the database file; the
 * modes of SQLite's `PRAGMA wal_checkpoint`.
 */
public enum class CheckpointMode {
    /** Copies what it can without waiting for readers or writers; never blocks. */
    PASSIVE,

    /** Waits (up to [QueueConfig.busyTimeout][dev.spool.queue.QueueConfig.busyTimeout]) for readers of older snapshots, then copies everything. */
    FULL,

    /** As [FULL], then waits for readers to leave the WAL so the next write starts it from the top. */
    RESTART,

    /** As [RESTART], then truncates the WAL file to zero bytes: the mode that gives disk space back. */
    TRUNCATE,
}
