package dev.spool.queue

/**
 * The server's verdict on one uploaded event, as passed to [OfflineQueue.processBatchResults].
 *
 * [deletes] tells which statuses remove the row; the SQL and the flusher refer to it, never to
 * the names.
 */
public enum class SyncStatus(
    /** Whether an event with this status is removed from the queue. */
    public val deletes: Boolean,
) {
    /** Stored by the server. The row is deleted. */
    SUCCESS(deletes = true),

    /** The server already had this event. The row is deleted. */
    DUPLICATE(deletes = true),

    /** The server will never accept this event. The row is deleted. */
    FAILED_PERMANENT(deletes = true),

    /** The server refused this event; it may be accepted later. Its retryCount goes up by 1. */
    REJECTED(deletes = false),

    /** The upload failed for reasons unrelated to the event. The row is left untouched. */
    FAILED_TRANSIENT(deletes = false),
}
