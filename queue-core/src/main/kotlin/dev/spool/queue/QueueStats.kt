package dev.spool.queue

import kotlin.time.Duration

/**
 * A snapshot of the queue for dashboards and logs, from [OfflineQueue.stats].
 *
 * @property totalQueued rows in the queue.
 * @property maxQueueSize the configured [QueueConfig.maxQueueSize].
 * @property totalRetried rows whose retryCount is at least 1.
 * @property oldestEventAge how long ago the oldest row was written, or null when empty.
 * @property retryDistribution row counts in the buckets "0 retries", "1-3 retries" and
 *   "4+ retries", in that order; empty buckets are left out.
 * @property topEventTypes the five most frequent event types with their counts, highest first
 *   (ties by name).
 */
public class QueueStats(
    public val totalQueued: Int,
    public val maxQueueSize: Int,
    public val totalRetried: Int,
    public val oldestEventAge: Duration?,
    public val retryDistribution: Map<String, Int>,
    public val topEventTypes: List<Pair<String, Int>>,
) {
    /** [oldestEventAge] as a [java.time.Duration], for Java callers; null when empty. */
    public val oldestEventAgeJava: java.time.Duration?
        get() = oldestEventAge?.let { java.time.Duration.ofNanos(it.inWholeNanoseconds) }

    override fun equals(other: Any?): Boolean =
        other is QueueStats &&
            totalQueued == other.totalQueued &&
            maxQueueSize == other.maxQueueSize &&
            totalRetried == other.totalRetried &&
            oldestEventAge == other.oldestEventAge &&
            retryDistribution == other.retryDistribution &&
            topEventTypes == other.topEventTypes

    override fun hashCode(): Int = listOf(totalQueued, maxQueueSize, totalRetried, retryDistribution).hashCode()

    override fun toString(): String =
        "QueueStats(totalQueued=$totalQueued, maxQueueSize=$maxQueueSize, totalRetried=$totalRetried, " +
            "oldestEventAge=$oldestEventAge, retryDistribution=$retryDistribution, topEventTypes=$topEventTypes)"
}
