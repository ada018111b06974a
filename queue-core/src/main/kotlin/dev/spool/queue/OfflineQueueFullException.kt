package dev.spool.queue

/**
 * Thrown by [OfflineQueue.append] when adding an event would take the queue past its strict cap.
 *
 * Nothing was stored and the count is unchanged. To recover, upload or [OfflineQueue.drainToFile]
 * some events, or raise the cap.
 *
 * @property cap the cap the append was checked against.
 * @property current how many rows the queue held.
 */
public class OfflineQueueFullException(
    public val cap: Int,
    public val current: Int,
) : IllegalStateException(
    "Offline queue is full: $current events queued, strict cap is $cap. " +
        "Upload or drainToFile() some events, or raise the cap, then append again.",
)
