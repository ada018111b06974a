package dev.spool.queue.internal

import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import dev.spool.queue.event
import dev.spool.queue.tempDb
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runInterruptible
import kotlinx.coroutines.Dispatchers
import java.util.concurrent.CountDownLatch

/**
 * The writer groups every waiting command into one transaction. An acknowledgement recorded
 * before a row is rewritten must not delete the rewritten row even when the rewrite and the
 * deferred delete share a transaction.
 */
class DeferredSyncGroupCommitSpec : FunSpec({
    /** Holds the writer on a latch so that the commands sent meanwhile form the next group. */
    suspend fun RealOfflineQueue.inOneGroup(vararg commands: suspend () -> Any?): List<Any?> = coroutineScope {
        val entered = CountDownLatch(1)
        val release = CountDownLatch(1)
        // On its own thread: the blocker holds the writer (or the engine) while this coroutine goes on.
        val blocker = launch(Dispatchers.IO) { onWriter { entered.countDown(); release.await() } }
        runInterruptible(Dispatchers.IO) { entered.await() }
        // UNDISPATCHED: each command is in the writer's channel, in order, before the next starts.
        val results = commands.map { async(start = CoroutineStart.UNDISPATCHED) { it() } }
        release.countDown()
        blocker.join()
        results.map { it.await() }
    }

    test("a row replaced in the same transaction as the deferred flush keeps its new content") {
        RealOfflineQueue.open(tempDb(), QueueConfig()).use { q ->
            q.queueEvent(event(1))
            q.deferredSync.record(listOf("e1"))
            val newer = QueueEvent("e1", "click", """{"n":"newer"}""")

            val (replaced, deleted) = q.inOneGroup({ q.queueEvent(newer) }, { q.deferredSync.flush() })

            (replaced as dev.spool.queue.EnqueueResult).outcome shouldBe EnqueueOutcome.REPLACED
            deleted shouldBe 0
            q.peek().map { it.payload } shouldBe listOf("""{"n":"newer"}""")
            q.size() shouldBe 1
            q.sizeFromDisk() shouldBe 1
            q.deferredSync.pending shouldBe 0
        }
    }

    test("a row coalesced in the same transaction as the deferred flush keeps its new content") {
        RealOfflineQueue.open(tempDb(), QueueConfig()).use { q ->
            q.queueEvent(event(1, coalesceKey = "k"))
            q.deferredSync.record(listOf("e1"))
            val newer = QueueEvent("e1", "click", """{"n":"newer"}""", coalesceKey = "k")

            val (_, deleted) = q.inOneGroup({ q.queueEvent(newer) }, { q.deferredSync.flush() })

            deleted shouldBe 0
            q.peek().map { it.payload } shouldBe listOf("""{"n":"newer"}""")
            q.sizeFromDisk() shouldBe 1
        }
    }

    test("eviction in the same transaction as a replacement applies only acknowledgements of unchanged rows") {
        RealOfflineQueue.open(tempDb(), QueueConfig(maxQueueSize = 3)).use { q ->
            (1..3).forEach { q.queueEvent(event(it)) }
            q.deferredSync.record(listOf("e1"))
            val newer = QueueEvent("e1", "click", """{"n":"newer"}""")

            val (_, inserted) = q.inOneGroup({ q.queueEvent(newer) }, { q.queueEvent(event(4)) })

            // The acknowledged content of e1 was replaced before room was needed: e1 is unsynced
            // again, so the oldest unsynced row (e2) is evicted instead.
            (inserted as dev.spool.queue.EnqueueResult).evicted shouldBe 1
            q.peek().map { it.eventId }.toSet() shouldBe setOf("e1", "e3", "e4")
            q.peek().single { it.eventId == "e1" }.payload shouldBe """{"n":"newer"}"""
            q.size() shouldBe 3
            q.sizeFromDisk() shouldBe 3
        }
    }
})
