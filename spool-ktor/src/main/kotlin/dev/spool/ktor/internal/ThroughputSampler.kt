package dev.spool.ktor.internal

import dev.spool.tasks.TaskQueue
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.delay
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.addJsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonArray
import java.time.Instant
import kotlin.time.Duration

/**
 * Reads a task queue's success and failure counters every [interval] and keeps the last
 * [window] of them, so the dashboard can chart completions per interval. The counters live in the
 * file, so work done by other processes on it is counted too.
 *
 * Costs one [TaskQueue.stats] call per interval (O(1) on SQLite: counts kept by triggers). [sample] is called by one coroutine;
 * [toJson] from any thread.
 */
internal class ThroughputSampler(private val queue: TaskQueue, val interval: Duration, window: Duration) {
    private class Total(val at: Instant, val succeeded: Long, val failed: Long)

    private val capacity = (window / interval).toInt().coerceAtLeast(1) + 1
    private val totals = ArrayDeque<Total>()

    suspend fun run() {
        while (true) {
            sample()
            delay(interval)
        }
    }

    suspend fun sample() {
        val stats = try {
            queue.stats()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            return // closed or unreadable for now: a gap in the chart, not a crash
        }
        synchronized(totals) {
            totals.addLast(Total(Instant.now(), stats.succeeded, stats.failed))
            while (totals.size > capacity) totals.removeFirst()
        }
    }

    fun toJson(): JsonObject {
        val snapshot = synchronized(totals) { totals.toList() }
        return buildJsonObject {
            put("intervalMs", interval.inWholeMilliseconds)
            putJsonArray("samples") {
                snapshot.zipWithNext { before, after ->
                    addJsonObject {
                        put("at", after.at.toString())
                        put("succeeded", (after.succeeded - before.succeeded).coerceAtLeast(0))
                        put("failed", (after.failed - before.failed).coerceAtLeast(0))
                    }
                }
            }
        }
    }
}
