package dev.spool.sync

/**
 * Receives an [OfflineSync]'s progress, for Java callers who can't collect
 * [OfflineSync.progress]; see [BlockingOfflineSync.addListener].
 *
 * **Threading.** Called on a background thread, one update at a time, with the latest state:
 * updates that arrive faster than the listener returns are conflated. An exception it throws is
 * logged and the listener stays registered.
 */
public fun interface SyncListener {
    /** Called with the latest [progress], first with the state at registration. */
    public fun onProgress(progress: SyncProgress)
}
