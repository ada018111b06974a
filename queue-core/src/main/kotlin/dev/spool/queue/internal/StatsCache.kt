package dev.spool.queue.internal

import dev.spool.queue.QueueStats
import java.sql.Connection
import kotlin.time.Duration.Companion.milliseconds

/**
 * The last [QueueStats] computed from the table, kept until the file changes, so that a caller
 * polling `stats()` (a dashboard, the inspection endpoint, metrics) pays one `PRAGMA data_version`
 * instead of scanning the table each time.
 *
 * `data_version` of the read connection changes whenever any other connection commits to the
 * file: this queue's writer, another queue on the same file, another process. It is read first,
 * in the same read transaction as the aggregates, so a cached snapshot is never older than the
 * version it is stored under; a hit therefore returns exactly what a scan would. The age of the
 * oldest row is recomputed from its timestamp on every call.
 *
 * Used only inside the read connection's transactions, which run one at a time.
 */
internal class StatsCache {
    private var snapshot: Snapshot? = null

    /** How many times the aggregates were computed from the table (a test seam). */
    @Volatile var scans: Long = 0
        private set

    /**
     * The stats for [connection]'s current state: from the cache when nothing committed since it
     * was filled, else from [scan]. Call inside a read transaction on the read connection.
     */
    fun get(connection: Connection, now: Long, scan: () -> Snapshot): QueueStats {
        val version = connection.createStatement().use { s -> s.executeQuery("PRAGMA data_version").use { it.next(); it.getLong(1) } }
        val cached = snapshot?.takeIf { it.version == version }
            ?: scan().also { scans++ }.copyAt(version).also { snapshot = it }
        return cached.toStats(now)
    }

    /** The aggregates of one scan, and the `data_version` they were read at. */
    class Snapshot(
        val totalQueued: Int,
        val maxQueueSize: Int,
        val oldestMillis: Long?,
        val retryDistribution: Map<String, Int>,
        val topEventTypes: List<Pair<String, Int>>,
        val version: Long = NO_VERSION,
    ) {
        fun copyAt(version: Long) = Snapshot(totalQueued, maxQueueSize, oldestMillis, retryDistribution, topEventTypes, version)

        fun toStats(now: Long) = QueueStats(
            totalQueued = totalQueued,
            maxQueueSize = maxQueueSize,
            totalRetried = (retryDistribution["1-3 retries"] ?: 0) + (retryDistribution["4+ retries"] ?: 0),
            oldestEventAge = oldestMillis?.let { (now - it).coerceAtLeast(0).milliseconds },
            retryDistribution = retryDistribution,
            topEventTypes = topEventTypes,
        )
    }

    private companion object {
        const val NO_VERSION = Long.MIN_VALUE
    }
}
