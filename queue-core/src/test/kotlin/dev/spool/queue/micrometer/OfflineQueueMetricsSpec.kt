package dev.spool.queue.micrometer

import dev.spool.storage.CheckpointMode
import dev.spool.maintenance.Maintenance
import dev.spool.queue.QueueConfig
import dev.spool.queue.event
import dev.spool.queue.withQueue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.micrometer.core.instrument.Tag
import io.micrometer.core.instrument.simple.SimpleMeterRegistry
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import dev.spool.queue.withJdbc
import dev.spool.queue.tempDb
import kotlin.time.Duration.Companion.seconds

class OfflineQueueMetricsSpec : FunSpec({
    test("meters report depth, pending acknowledgements, WAL size, enqueue latency, batch size and transaction time, tagged with the queue name") {
        withQueue(QueueConfig(name = "orders")) { q ->
            val registry = SimpleMeterRegistry()
            OfflineQueueMetrics(q, listOf(Tag.of("app", "test"))).use { metrics ->
                metrics.bindTo(registry)
                coroutineScope {
                    (0 until 200).map { n -> async(Dispatchers.Default) { q.queueEvent(event(n)) } }.awaitAll()
                }
                q.markSynced(listOf("e0"))
                q.deferredSync.record(listOf("e1", "e2"))

                fun search(name: String) = registry.find(name).tags("queue", "orders", "app", "test")
                search("spool.queue.depth").gauge()!!.value() shouldBe 199.0
                search("spool.queue.deferred.pending").gauge()!!.value() shouldBe 2.0
                search("spool.queue.wal.size").gauge()!!.value() shouldBeGreaterThan 0.0
                val enqueue = search("spool.queue.enqueue").timer()!!
                enqueue.count() shouldBe 200
                enqueue.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS) shouldBeGreaterThan 0.0
                val batch = search("spool.queue.commit.batch").summary()!!
                batch.totalAmount() shouldBe 201.0 // 200 enqueues and one markSynced, however grouped
                val transaction = search("spool.queue.transaction").timer()!!
                transaction.count() shouldBe batch.count()
                (transaction.count() > 0) shouldBe true

                Maintenance.of(q).checkpoint(CheckpointMode.TRUNCATE)
                search("spool.queue.wal.size").gauge()!!.value() shouldBe 0.0
            }
        }
    }

    test("while bound, the depth gauge follows another connection's commits without this queue writing") {
        val db = tempDb()
        withQueue(path = db) { q ->
            q.queueEvent(event(1))
            val registry = SimpleMeterRegistry()
            OfflineQueueMetrics(q).use { metrics ->
                metrics.bindTo(registry)
                val depth = registry.find("spool.queue.depth").gauge()!!
                depth.value() shouldBe 1.0
                withJdbc(db) { c ->
                    c.createStatement().use {
                        it.execute("INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES ('other', 't', '{}', 1)")
                    }
                }
                // The binder's collector makes the queue poll the file; no write or size() call here.
                withTimeout(60.seconds) { q.sizes.first { it == 2 } }
                depth.value() shouldBe 2.0
            }
        }
    }

    test("after close the timers stop recording and the queue pays nothing") {
        withQueue { q ->
            val registry = SimpleMeterRegistry()
            val metrics = OfflineQueueMetrics(q)
            metrics.bindTo(registry)
            q.queueEvent(event(1))
            metrics.close()
            metrics.close()
            q.queueEvent(event(2))
            registry.find("spool.queue.enqueue").timer()!!.count() shouldBe 1
            registry.find("spool.queue.commit.batch").summary()!!.count() shouldBe 1
            registry.find("spool.queue.depth").tags("queue", "spool").gauge()!!.value() shouldBe 2.0
        }
    }

    test("a binder bound to two registries records into both") {
        withQueue { q ->
            val first = SimpleMeterRegistry()
            val second = SimpleMeterRegistry()
            OfflineQueueMetrics(q).use { metrics ->
                metrics.bindTo(first)
                metrics.bindTo(second)
                q.queueEvent(event(1))
                first.find("spool.queue.enqueue").timer()!!.count() shouldBe 1
                second.find("spool.queue.enqueue").timer()!!.count() shouldBe 1
            }
        }
    }
})
