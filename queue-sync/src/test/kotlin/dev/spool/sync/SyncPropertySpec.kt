package dev.spool.sync

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
import dev.spool.queue.BatchEventResult
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import dev.spool.tasks.RetryPolicy
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.arbitrary.long
import io.kotest.property.checkAll
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.test.runTest
import java.nio.file.Path
import java.sql.DriverManager
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/** The event ids on disk, read through a connection of our own: the truth, acknowledged rows included. */
private fun idsOnDisk(db: Path): Set<String> =
    DriverManager.getConnection("jdbc:sqlite:$db").use { c ->
        c.createStatement().use { s -> s.executeQuery("SELECT event_id FROM queue").use { rs -> buildSet { while (rs.next()) add(rs.getString(1)) } } }
    }

/**
 * A server that fails at random: timeouts (sometimes after storing the batch), 5xx, 429 with
 * Retry-After, connections dropped after the batch was stored, and per-event answers that reject,
 * refuse for good, or leave events out. It deduplicates by id, like a real ingestion server.
 */
private class FlakyServer(private val random: Random, private val db: Path, private val emitted: Set<String>, private val sink: MemorySink) : Uploader {
    val stored = HashSet<String>()
    val acknowledged = HashSet<String>()
    var healthy = false
    var calls = 0
    val faults = HashMap<String, Int>()
    val violations = ArrayList<String>()

    override suspend fun upload(batch: List<QueuedEvent>): UploadOutcome {
        calls++
        try {
            checkNothingDeletedEarly()
        } catch (e: AssertionError) {
            violations += e.message ?: "deleted early"
        }
        if (!healthy) {
            when (random.nextInt(10)) {
                0 -> {
                    fault("timeout")
                    if (random.nextBoolean()) batch.forEach { stored += it.eventId }
                    awaitCancellation()
                }
                1 -> return UploadOutcome.Failed("HTTP 503").also { fault("5xx") }
                2 -> return UploadOutcome.Failed("HTTP 429", retryAfter = random.nextInt(0, 120).seconds).also { fault("429") }
                3 -> {
                    fault("dropped after store")
                    batch.forEach { stored += it.eventId }
                    return UploadOutcome.Failed("connection reset")
                }
            }
        }
        val results = ArrayList<BatchEventResult>()
        for (event in batch) {
            val id = event.eventId
            val roll = if (healthy) 99 else random.nextInt(100)
            when {
                roll < 10 -> fault("partial") // left out of the answer
                roll < 20 -> results += BatchEventResult(id, SyncStatus.REJECTED, "bad luck").also { fault("rejected") }
                roll < 23 -> results += BatchEventResult(id, SyncStatus.FAILED_PERMANENT, "never").also { acknowledged += id; fault("permanent") }
                stored.add(id) -> results += BatchEventResult(id, SyncStatus.SUCCESS).also { acknowledged += id }
                else -> results += BatchEventResult(id, SyncStatus.DUPLICATE).also { acknowledged += id }
            }
        }
        return UploadOutcome.Results(results)
    }

    private fun fault(kind: String) {
        faults.merge(kind, 1, Int::plus)
    }

    /** No event leaves the disk before the server acknowledged it or the sink stored it. */
    fun checkNothingDeletedEarly() {
        val gone = emitted - idsOnDisk(db)
        val dead = sink.letters.map { it.event.eventId }.toSet()
        (gone - acknowledged - dead).shouldBeEmpty()
    }
}

/**
 * The cached count equals the disk. A retry may run while this check waits for the disk, so it
 * compares only when the count did not move around the read.
 */
private suspend fun OfflineQueue.countMatchesDisk() {
    while (true) {
        val before = size()
        val disk = sizeFromDisk()
        if (size() == before) {
            disk shouldBe before
            return
        }
    }
}

class SyncPropertySpec : FunSpec({
    test("through random timeouts, 5xx, 429s, partial answers and dropped connections, every event is delivered or dead-lettered, none lost, the count equals the disk, and nothing is deleted before its acknowledgement") {
        checkAll(PropTestConfig(iterations = 30), Arb.long()) { seed ->
            val random = Random(seed)
            val db = tempDir().resolve("q.db")
            OfflineQueue.open(db).use { queue ->
                val emitted = LinkedHashSet<String>()
                val sink = MemorySink()
                val server = FlakyServer(random, db, emitted, sink)
                var next = 0
                suspend fun emit(n: Int) = repeat(n) {
                    val id = "e${next++}"
                    queue.queueEvent(dev.spool.queue.QueueEvent(id, "tap", """{"n":$next}"""))
                    emitted += id // only once it is on disk: a retry may run while this call waits
                }
                emit(random.nextInt(1, 150))
                runTest(timeout = 2.minutes) {
                    val flusher = SyncedRowFlusher(queue, FlusherConfig(maxBatch = random.nextInt(1, 64), maxDelay = 5.milliseconds), backgroundScope)
                    val config = SyncConfig(
                        maxBatchEvents = random.nextInt(1, 40),
                        policy = FlushPolicy.onDemand(),
                        retryPolicy = RetryPolicy(base = 1.seconds, max = 1.minutes),
                        maxRejections = random.nextInt(0, 4),
                        uploadTimeout = 30.seconds,
                        random = random,
                    )
                    val sync = OfflineSync(queue, server, sink, config, flusher = flusher)
                    sync.start(backgroundScope)
                    repeat(random.nextInt(3, 12)) {
                        sync.flushNow()
                        flusher.flush()
                        queue.countMatchesDisk()
                        server.checkNothingDeletedEarly()
                        if (random.nextBoolean()) emit(random.nextInt(0, 40))
                    }
                    server.healthy = true
                    var flushes = 0
                    while (!sync.flushNow().drained) flushes++.also { check(it < 50) { "never drained" } }
                    sync.close()
                    sync.join()
                    flusher.flush()
                    flusher.close()
                }
                server.violations.shouldBeEmpty()
                server.checkNothingDeletedEarly()
                val dead = sink.letters.map { it.event.eventId }.toSet()
                (emitted - server.stored - dead).shouldBeEmpty() // none lost
                (server.stored - emitted).shouldBeEmpty()
                queue.size() shouldBe 0
                queue.sizeFromDisk() shouldBe 0
                server.calls shouldBeGreaterThan 0
            }
        }
    }
})
