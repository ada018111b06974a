package dev.spool.queue

import dev.spool.queue.WriterGate.Companion.holdWriter
import dev.spool.queue.internal.RealOfflineQueue
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import java.util.concurrent.ConcurrentLinkedQueue

/**
 * Proves what the writer connection executes, through the internal SQL observer: the cap is
 * checked against the cached count, never by scanning the table.
 */
class HotPathSqlSpec : FunSpec({

    class RecordedSql {
        val statements = ConcurrentLinkedQueue<String>()
        fun record(sql: String) { statements += sql }
        fun counts() = statements.filter { COUNT.containsMatchIn(it) }
        fun matching(prefix: String) = statements.count { it.trimStart().startsWith(prefix, ignoreCase = true) }
        fun reset() = statements.clear()
    }

    fun openRecorded(config: QueueConfig = QueueConfig()): Pair<RealOfflineQueue, RecordedSql> {
        val sql = RecordedSql()
        return RealOfflineQueue.open(tempDb(), config, sql::record) to sql
    }

    test("opening a queue counts its rows exactly once") {
        val db = tempDb()
        withQueue(path = db) { q -> repeat(10) { q.queueEvent(event(it)) } }
        val sql = RecordedSql()
        RealOfflineQueue.open(db, QueueConfig(), sql::record).use { q ->
            sql.counts().size shouldBe 1
            q.size() shouldBe 10
        }
    }

    test("1,000 steady-state queueEvent and append calls never run COUNT(*)") {
        val (q, sql) = openRecorded(QueueConfig(maxQueueSize = 100_000, strictCap = 100_000))
        q.use {
            repeat(100) { q.queueEvent(event(it)) } // warm-up
            repeat(100) { q.append(event(100 + it)) }
            sql.reset()

            coroutineScope {
                (0 until 1_000).map { n ->
                    async(Dispatchers.Default) {
                        if (n % 2 == 0) q.queueEvent(event(1_000 + n)) else q.append(event(1_000 + n))
                    }
                }.awaitAll()
            }

            sql.counts().shouldBeEmpty()
            sql.matching("INSERT") shouldBe 1_000 // the observer did see the hot path
            q.size() shouldBe 1_200
            q.sizeFromDisk() shouldBe 1_200
        }
    }

    test("queueEvent at the cap evicts, replaces and coalesces without running COUNT(*)") {
        val (q, sql) = openRecorded(QueueConfig(maxQueueSize = 50))
        q.use {
            repeat(50) { q.queueEvent(event(it, coalesceKey = if (it == 0) "screen" else null)) }
            sql.reset()

            repeat(1_000) { q.queueEvent(event(100 + it)).evicted shouldBe 1 }
            q.queueEvent(event(1_099, type = "again")).outcome shouldBe EnqueueOutcome.REPLACED
            q.queueEvent(event(5_000, coalesceKey = "late")).evicted shouldBe 1
            q.queueEvent(event(5_001, coalesceKey = "late")).outcome shouldBe EnqueueOutcome.COALESCED

            sql.counts().shouldBeEmpty()
            q.size() shouldBe 50
            q.sizeFromDisk() shouldBe 50
        }
    }

    test("append refused at the strict cap does not run COUNT(*)") {
        val (q, sql) = openRecorded(QueueConfig(strictCap = 10))
        q.use {
            repeat(10) { q.append(event(it)) }
            sql.reset()
            repeat(100) { shouldThrow<OfflineQueueFullException> { q.append(event(100 + it)) } }
            sql.counts().shouldBeEmpty()
            q.sizeFromDisk() shouldBe 10
        }
    }

    test("a commit by another connection costs exactly one COUNT(*), on the next write") {
        val db = tempDb()
        val sql = RecordedSql()
        RealOfflineQueue.open(db, QueueConfig(), sql::record).use { q ->
            q.queueEvent(event(1))
            sql.reset()
            withJdbc(db) { c ->
                c.createStatement().use {
                    it.execute("INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES ('other', 't', '{}', 1)")
                }
            }
            q.queueEvent(event(2))
            q.queueEvent(event(3))
            sql.counts().size shouldBe 1
            q.size() shouldBe 4
        }
    }

    test("size() after this queue's own writes sends the writer nothing; another connection's commit sends one recount") {
        val db = tempDb()
        RealOfflineQueue.open(db, QueueConfig()).use { q ->
            q.size() shouldBe 0 // the first look opens the watch connection and may recount once
            val first = q.refreshesSent.get()
            repeat(20) {
                q.queueEvent(event(it))
                q.size() shouldBe it + 1
            }
            q.refreshesSent.get() shouldBe first
            withJdbc(db) { c ->
                c.createStatement().use {
                    it.execute("INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES ('other', 't', '{}', 1)")
                }
            }
            q.size() shouldBe 21
            q.size() shouldBe 21
            q.refreshesSent.get() shouldBe first + 1
            q.queueEvent(event(99))
            q.size() shouldBe 22
            q.refreshesSent.get() shouldBe first + 1
        }
    }

    test("writes waiting together share one transaction per batch") {
        val (q, sql) = openRecorded(QueueConfig(maxBatchSize = 512))
        q.use {
            coroutineScope {
                val gate = holdWriter(q)
                val writes = (0 until 1_000).map { n -> async(start = CoroutineStart.UNDISPATCHED) { q.queueEvent(event(n)) } }
                sql.reset()
                gate.release()
                writes.awaitAll()
            }
            // The gate's own transaction commits after the reset; then 512 + 488.
            sql.matching("BEGIN") shouldBe 2
            sql.matching("COMMIT") shouldBe 3
            q.sizeFromDisk() shouldBe 1_000
        }
    }
}) {
    private companion object {
        val COUNT = Regex("""\bCOUNT\s*\(""", RegexOption.IGNORE_CASE)
    }
}
