package dev.spool.samples

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.OfflineQueue
import dev.spool.samples.client.EventEmitter
import dev.spool.samples.client.OkHttpUploader
import dev.spool.samples.server.Faults
import dev.spool.samples.server.IngestionServer
import dev.spool.sync.Connectivity
import dev.spool.sync.DeadLetterFile
import dev.spool.sync.OfflineSync
import dev.spool.sync.SyncConfig
import dev.spool.tasks.RetryPolicy
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeoutOrNull
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.int
import kotlinx.serialization.json.put
import java.nio.file.Files
import java.nio.file.Path
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Waits, polling, until [condition] holds; fails after [timeoutMs]. */
private suspend fun eventually(what: String, timeoutMs: Long = 20_000, condition: () -> Boolean) {
    withTimeoutOrNull(timeoutMs.milliseconds) { while (!condition()) delay(5) }
        ?: throw AssertionError("timed out waiting for $what")
}

private fun deadLetterLines(path: Path): List<JsonObject> =
    if (!Files.exists(path)) emptyList() else Files.readAllLines(path).map { Json.parseToJsonElement(it) as JsonObject }

class SyncEndToEndSpec : FunSpec({
    for (withFlusher in listOf(true, false)) {
        val name = if (withFlusher) "acknowledged through the app's SyncedRowFlusher" else "acknowledged through OfflineSync's own flusher"
        test("through errors, a 500 burst, a 401, an oversized event and an outage mid-batch, every event is stored once or dead-lettered ($name)") {
            val dir = tempDir()
            val maxRejections = 3
            IngestionServer(maxBatchBytes = 64 * 1024, faults = Faults(Random(5))).start().use { server ->
                server.faults.rejectedEventType = "legacy"
                OfflineQueue.open(dir.resolve("events.db")).use { queue ->
                    // Offline: emit taps, screen states that coalesce, refused and oversized events.
                    val emitter = EventEmitter(queue)
                    val expected = LinkedHashSet<String>()
                    var coalesced = 0
                    val latestScreen = HashMap<String, String>()
                    for (i in 0 until 3_000) {
                        val id = "ev-$i"
                        if (i % 4 == 3) {
                            val screen = "screen-${i % 7}"
                            val outcome = emitter.screenState(screen, buildJsonObject { put("seq", i) }, eventId = id).outcome
                            if (outcome == EnqueueOutcome.COALESCED) coalesced++
                            latestScreen[screen] = id
                        } else {
                            emitter.track("tap", buildJsonObject { put("seq", i) }, eventId = id)
                            expected += id
                        }
                    }
                    expected += latestScreen.values
                    val refused = listOf("legacy-1", "legacy-2")
                    refused.forEachIndexed { n, id -> emitter.track("legacy", buildJsonObject { put("seq", -1 - n) }, eventId = id) }
                    emitter.track("photo", buildJsonObject { put("seq", -10); put("blob", "x".repeat(100_000)) }, eventId = "oversized")
                    expected += refused + "oversized"
                    queue.size() shouldBe 3_000 + 3 - coalesced
                    expected.size shouldBe 3_000 + 3 - coalesced

                    // Online, faults on: 10% per-event errors and a burst of three 500s first.
                    server.faults.errorRate = 0.10
                    server.faults.failNext(500, 3)
                    val deadLetters = DeadLetterFile(dir.resolve("dead-letters.jsonl"))
                    val connectivity = Connectivity(initiallyOnline = false)
                    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
                    // Small, frequent flushes: every peek races a committing delete.
                    val flusher = if (withFlusher) SyncedRowFlusher(queue, FlusherConfig(maxBatch = 50, maxDelay = 1.milliseconds), scope) else null
                    val uploader = OkHttpUploader(server.baseUrl, timeout = 5.seconds)
                    val sync = OfflineSync(
                        queue = queue,
                        uploader = uploader,
                        deadLetters = deadLetters,
                        config = SyncConfig(
                            // Above the server's limit, so the server's 413 is what stops the oversized event.
                            maxBatchBytes = 256 * 1024,
                            maxRejections = maxRejections,
                            retryPolicy = RetryPolicy(base = 5.milliseconds, factor = 2.0, max = 50.milliseconds, jitter = 0.5),
                            random = Random(9),
                        ),
                        online = connectivity.online,
                        flusher = flusher,
                    )
                    try {
                        sync.start(scope)
                        delay(50)
                        sync.progress.value.requests shouldBe 0 // offline: nothing is sent
                        connectivity.setOnline(true)

                        eventually("the 500 burst") { server.faults.pendingFailures == 0 }
                        server.faults.failNext(401, 1)
                        eventually("the 401") { server.faults.pendingFailures == 0 }

                        // Outage mid-batch: a batch is stored, its answer held back, and the server goes away.
                        eventually("a third uploaded") { sync.progress.value.uploaded >= 1_000 }
                        server.faults.latency = 10.seconds
                        val before = server.store.counters().received
                        eventually("a batch stored but not answered") { server.store.counters().received > before }
                        server.goOffline()
                        server.faults.latency = 0.milliseconds
                        eventually("the sync to see the outage") { sync.progress.value.lastError?.startsWith("I/O") == true }
                        server.goOnline()

                        withTimeoutOrNull(30.seconds) { queue.sizes.first { it == 0 } }.shouldNotBeNull()
                    } finally {
                        sync.close()
                        sync.join()
                        scope.cancel()
                        flusher?.close()
                        uploader.close()
                    }

                    // Exactly once after dedupe, apart from the dead-lettered events.
                    val stored = server.store.ids()
                    val dead = deadLetterLines(deadLetters.path)
                    val deadIds = dead.map { (it["event_id"] as JsonPrimitive).content }
                    stored.toSet().size shouldBe stored.size
                    server.store.events().map { ((it["payload"] as JsonObject)["seq"] as JsonPrimitive).int }.toSet().size shouldBe stored.size
                    deadIds.toSet().size shouldBe deadIds.size
                    (stored.toSet() intersect deadIds.toSet()).shouldBeEmpty()
                    (stored + deadIds).toSet() shouldBe expected
                    server.store.count() shouldBe expected.size - deadIds.size

                    // The dead letters: the refused and the oversized events, plus any event that
                    // the random errors rejected more than maxRejections times.
                    deadIds shouldContainAll refused + "oversized"
                    for (line in dead) {
                        val id = (line["event_id"] as JsonPrimitive).content
                        val reason = (line["reason"] as JsonPrimitive).content
                        if (id == "oversized") {
                            reason.startsWith("too large for the server") shouldBe true
                        } else {
                            (line["retry_count"] as JsonPrimitive).int shouldBe maxRejections
                            reason.startsWith("rejected ${maxRejections + 1} times") shouldBe true
                        }
                    }

                    // The queue ends empty, and its count equals the disk.
                    queue.size() shouldBe 0
                    queue.sizeFromDisk() shouldBe 0

                    // The faults really happened: retries after 500, 401 and the outage, and the
                    // batch whose answer was lost was sent again and answered duplicate.
                    val progress = sync.progress.value
                    progress.failedRounds shouldBeGreaterThanOrEqual 5
                    progress.duplicates shouldBeGreaterThanOrEqual 1
                    // ...and only that batch: an acknowledged event is never handed out again.
                    progress.duplicates shouldBeLessThanOrEqual 100
                    server.store.counters().duplicates shouldBe progress.duplicates
                    progress.rejected shouldBeGreaterThanOrEqual 100
                }
            }
        }
    }
})
