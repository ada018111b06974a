package dev.spool.queue

import dev.spool.queue.internal.RealOfflineQueue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.maps.shouldContainExactly
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import java.util.concurrent.atomic.AtomicLong
import kotlin.time.Duration.Companion.seconds

/**
 * `stats()`: what it reports, and that it stays exact while it serves repeated calls from its
 * cache (own writes, other connections' writes and the clock all show in the next call).
 */
class StatsSpec : FunSpec({
    test("stats of an empty queue") {
        withQueue(QueueConfig(maxQueueSize = 50)) { q ->
            val stats = q.stats()
            stats.totalQueued shouldBe 0
            stats.maxQueueSize shouldBe 50
            stats.totalRetried shouldBe 0
            stats.oldestEventAge.shouldBeNull()
            stats.retryDistribution shouldBe emptyMap()
            stats.topEventTypes shouldBe emptyList()
        }
    }

    test("retry buckets leave out empty buckets and count retried rows") {
        withQueue { q ->
            (1..6).forEach { q.queueEvent(event(it)) }
            q.incrementRetry(listOf("e1", "e2"))
            repeat(4) { q.incrementRetry(listOf("e3")) }
            val stats = q.stats()
            stats.retryDistribution shouldContainExactly linkedMapOf("0 retries" to 3, "1-3 retries" to 2, "4+ retries" to 1)
            stats.retryDistribution.keys.toList() shouldContainExactly listOf("0 retries", "1-3 retries", "4+ retries")
            stats.totalRetried shouldBe 3
            stats.totalQueued shouldBe 6
            stats.oldestEventAge.shouldNotBeNull()
        }
    }

    test("top event types are the five most frequent, highest first") {
        withQueue { q ->
            var n = 0
            listOf("a" to 1, "b" to 6, "c" to 3, "d" to 5, "e" to 2, "f" to 4, "g" to 1).forEach { (type, count) ->
                repeat(count) { q.queueEvent(event(++n, type = type)) }
            }
            q.stats().topEventTypes shouldContainExactly listOf("b" to 6, "d" to 5, "f" to 4, "c" to 3, "e" to 2)
        }
    }

    test("polling stats without writes scans the table once, and the oldest age still moves with the clock") {
        val clock = AtomicLong(1_000_000)
        RealOfflineQueue.open(tempDb(), QueueConfig(), clock = { clock.get() }).use { q ->
            q.queueEvent(event(1))
            q.stats().oldestEventAge shouldBe 0.seconds
            clock.addAndGet(5_000)
            val later = q.stats()
            later.oldestEventAge shouldBe 5.seconds
            later.totalQueued shouldBe 1
            q.statsScans shouldBe 1
        }
    }

    test("stats right after a write of this queue include it") {
        RealOfflineQueue.open(tempDb(), QueueConfig()).use { q ->
            q.queueEvent(event(1, type = "a"))
            q.stats().topEventTypes shouldContainExactly listOf("a" to 1)
            q.queueEvent(event(2, type = "b"))
            q.incrementRetry(listOf("e1"))
            val stats = q.stats()
            stats.totalQueued shouldBe 2
            stats.topEventTypes shouldContainExactly listOf("a" to 1, "b" to 1)
            stats.retryDistribution shouldContainExactly linkedMapOf("0 retries" to 1, "1-3 retries" to 1)
            q.statsScans shouldBe 2
        }
    }

    test("stats right after another connection wrote to the file include its write") {
        val db = tempDb()
        RealOfflineQueue.open(db, QueueConfig()).use { q ->
            q.queueEvent(event(1))
            q.stats().totalQueued shouldBe 1
            withJdbc(db) { c ->
                c.createStatement().use {
                    it.executeUpdate("INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES ('x', 'foreign', '{}', 1)")
                }
            }
            val stats = q.stats()
            stats.totalQueued shouldBe 2
            stats.topEventTypes shouldContainExactly listOf("click" to 1, "foreign" to 1)
        }
    }
})
