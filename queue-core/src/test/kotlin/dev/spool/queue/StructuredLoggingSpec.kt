package dev.spool.queue

import dev.spool.maintenance.Maintenance
import dev.spool.storage.CheckpointMode
import dev.spool.engine.ThrottledCount
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.io.ByteArrayOutputStream
import java.io.PrintStream

/** slf4j-simple (the test binding) writes to System.err; these tests read what it wrote. */
private suspend fun capturedLog(block: suspend () -> Unit): String {
    val original = System.err
    val buffer = ByteArrayOutputStream()
    System.setErr(PrintStream(buffer, true, Charsets.UTF_8))
    try {
        block()
    } finally {
        System.setErr(original)
    }
    return buffer.toString(Charsets.UTF_8)
}

class StructuredLoggingSpec : FunSpec({
    test("a strict-cap refusal is logged once with its stable event key, then throttled") {
        withQueue(QueueConfig(name = "cap-test")) { q ->
            q.append(event(1), cap = 1)
            val log = capturedLog {
                repeat(3) { shouldThrow<OfflineQueueFullException> { q.append(event(2 + it), cap = 1) } }
            }
            log shouldContain "spool.event=queue.strict_cap_refused"
            log shouldContain "spool.queue=cap-test"
            log shouldContain "Offline queue 'cap-test' refused 1 event(s) at its strict cap of 1"
            Regex("strict_cap_refused").findAll(log).count() shouldBe 1
        }
    }

    test("events the server rejects permanently are logged as dead-lettered with their ids") {
        withQueue(QueueConfig(name = "dl-test")) { q ->
            repeat(3) { q.queueEvent(event(it)) }
            val log = capturedLog {
                q.processBatchResults(
                    listOf(
                        BatchEventResult("e0", SyncStatus.FAILED_PERMANENT),
                        BatchEventResult("e1", SyncStatus.SUCCESS),
                        BatchEventResult("missing", SyncStatus.FAILED_PERMANENT),
                    ),
                )
            }
            log shouldContain "spool.event=queue.dead_lettered"
            log shouldContain "Offline queue 'dl-test' dropped 1 event(s) the server rejected permanently: [e0]"
            log shouldNotContain "missing"
            q.size() shouldBe 1
        }
    }

    test("eviction at the cap is logged with its stable event key") {
        withQueue(QueueConfig(name = "evict-test", maxQueueSize = 2)) { q ->
            val log = capturedLog { repeat(3) { q.queueEvent(event(it)) } }
            log shouldContain "spool.event=queue.evicted"
            log shouldContain "Offline queue 'evict-test' reached its cap of 2 events: evicted the 1 oldest event(s)"
        }
    }

    test("a checkpoint that cannot complete is logged as a checkpoint failure") {
        val path = tempDb()
        withQueue(QueueConfig(name = "ckpt-test", busyTimeout = kotlin.time.Duration.ZERO), path) { q ->
            q.queueEvent(event(1))
            rawConnection(path).use { reader ->
                reader.autoCommit = false
                reader.scalar("SELECT count(*) FROM queue")
                q.queueEvent(event(2))
                val log = capturedLog { Maintenance.of(q).checkpoint(CheckpointMode.TRUNCATE) }
                log shouldContain "spool.event=queue.checkpoint_failed"
                log shouldContain "Offline queue 'ckpt-test' could not checkpoint its WAL (TRUNCATE mode"
                reader.rollback()
            }
        }
    }

    test("throttling logs the first occurrence at once and sums the rest per interval") {
        var now = 0L
        val count = ThrottledCount(intervalMillis = 1000, clock = { now })
        count.add(1) shouldBe 1
        now = 500
        count.add(2) shouldBe null
        count.add(3) shouldBe null
        now = 1500
        count.add(1) shouldBe 6
        count.add(0) shouldBe null
    }
})
