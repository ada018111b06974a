package dev.spool.check

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import dev.spool.tasks.AckResult
import dev.spool.tasks.TaskQueue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import java.nio.file.Path
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** A Kotlin application's use of Spool: the suspending API, a StateFlow, the flusher on a scope. */
fun runKotlinConsumer(dir: Path): Unit = runBlocking {
    OfflineQueue.open(dir.resolve("events.db"), QueueConfig(maxQueueSize = 1_000)).use { queue ->
        val first = queue.queueEvent(QueueEvent("kt-1", "click", """{"n":1}"""))
        ConsumerCheck.require(first.outcome == EnqueueOutcome.INSERTED, "Kotlin: first event inserted")
        queue.queueEvent(QueueEvent("kt-2", "screen", """{"s":"home"}""", coalesceKey = "screen"))
        val coalesced = queue.queueEvent(QueueEvent("kt-3", "screen", """{"s":"cart"}""", coalesceKey = "screen"))
        ConsumerCheck.require(coalesced.outcome == EnqueueOutcome.COALESCED, "Kotlin: same coalesceKey coalesces")
        ConsumerCheck.require(queue.sizes.first { it == 2 } == 2, "Kotlin: sizes flow reports 2")

        val batch = queue.peek(limit = 100)
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        SyncedRowFlusher(queue, FlusherConfig(maxBatch = 512, maxDelay = 50.milliseconds), scope).use { flusher ->
            flusher.markEventsSynced(batch)
            flusher.flush()
        }
        scope.cancel()
        ConsumerCheck.require(queue.sizeFromDisk() == 0, "Kotlin: the flusher deleted the acknowledged rows")
    }

    TaskQueue.open(dir.resolve("tasks.db")).use { tasks ->
        val id = tasks.enqueue("download", """{"url":"https://example.com/a"}""", priority = 10)
        val claimed = tasks.claim("kt-worker", leaseTtl = 30.seconds)
        ConsumerCheck.require(claimed.singleOrNull()?.id == id, "Kotlin: the task is claimed")
        val lease = claimed.single().lease ?: error("Kotlin: a claimed task carries its lease")
        ConsumerCheck.require(tasks.complete(lease) == AckResult.COMPLETED, "Kotlin: the task completes")
    }
}
