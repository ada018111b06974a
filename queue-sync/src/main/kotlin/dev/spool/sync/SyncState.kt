package dev.spool.sync

/** What an [OfflineSync] is doing now, in [SyncProgress.state]. */
public enum class SyncState {
    /** Not started yet, or waiting for a trigger of its [FlushPolicy] or a [OfflineSync.flushNow]. */
    IDLE,

    /** In a flush, waiting for the device to be online. */
    WAITING_FOR_NETWORK,

    /** In a flush: reading, uploading or applying a batch. */
    UPLOADING,

    /** Waiting out a backoff or a server's retry-after before retrying. */
    BACKING_OFF,

    /** Stopped: closed, or its scope was cancelled. */
    STOPPED,
}
