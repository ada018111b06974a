package dev.spool.samples.client

/**
 * What a [SyncWorker] has done so far, for a progress display. Counts are events unless named
 * otherwise.
 *
 * @property uploaded events the server stored (SUCCESS).
 * @property duplicates events the server already had (DUPLICATE): redeliveries.
 * @property rejected rejections (REJECTED); an event rejected twice counts twice.
 * @property deadLettered events moved to the dead-letter file.
 * @property requests upload requests sent, including retries and halves after 413.
 * @property transientFailures rounds that failed as a whole (401, 5xx, I/O) and will be retried.
 * @property lastError the latest failure, for display.
 */
public data class SyncProgress(
    val uploaded: Int = 0,
    val duplicates: Int = 0,
    val rejected: Int = 0,
    val deadLettered: Int = 0,
    val requests: Int = 0,
    val transientFailures: Int = 0,
    val lastError: String? = null,
)
