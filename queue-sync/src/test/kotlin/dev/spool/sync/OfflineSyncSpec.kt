package dev.spool.sync

import dev.spool.queue.BatchEventResult
import dev.spool.queue.OfflineQueue
import dev.spool.queue.SyncStatus
import dev.spool.tasks.RetryPolicy
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.Job
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.test.advanceTimeBy
import kotlinx.coroutines.test.runCurrent
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import java.nio.file.Files
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

private val FIXED = RetryPolicy(base = 1.seconds, factor = 2.0, max = 8.seconds, jitter = 0.0)

private fun failed(reason: String = "HTTP 503") = UploadOutcome.Failed(reason)

@OptIn(ExperimentalCoroutinesApi::class)
class OfflineSyncSpec : FunSpec({
    test("consecutive failed rounds wait RetryPolicy's delays, and a round that delivers resets them") {
        virtualQueue(events = 1) { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { call, batch -> if (call in 6..6 || call == 9) succeed(batch) else failed() }
            val sync = startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onStart(), retryPolicy = FIXED))
            advanceTimeBy(1.hours)
            // Waits of 1, 2, 4, 8 and 8 s (capped at max) between the first six calls.
            val expected = (1..5).runningFold(0L) { t, n -> t + FIXED.nominalDelay(n).inWholeMilliseconds }
            uploader.calls.map { it.time } shouldBe expected
            expected shouldBe listOf(0L, 1_000L, 3_000L, 7_000L, 15_000L, 23_000L)
            sync.progress.value.failedRounds shouldBe 5
            sync.progress.value.lastError shouldBe "HTTP 503"
            sync.progress.value.state shouldBe SyncState.IDLE

            queue.blocking().queueEvent(event(2))
            val t = testScheduler.currentTime
            val first = async { sync.flushNow() }
            runCurrent()
            first.await().let { it.failure shouldBe "HTTP 503"; it.retryIn shouldBe 1.seconds; it.drained shouldBe false }
            sync.progress.value.state shouldBe SyncState.BACKING_OFF
            advanceTimeBy(1.hours)
            uploader.calls.drop(6).map { it.time - t } shouldBe listOf(0L, 1_000L, 3_000L)
            queue.peek() shouldBe emptyList()
        }
    }

    test("a 429 with Retry-After waits exactly the hint instead of the backoff") {
        virtualQueue(events = 1) { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { call, batch ->
                when (call) {
                    1 -> UploadOutcome.Failed("HTTP 429", retryAfter = 42.seconds)
                    2 -> failed()
                    else -> succeed(batch)
                }
            }
            startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onStart(), retryPolicy = FIXED))
            advanceTimeBy(41.seconds)
            uploader.calls.size shouldBe 1
            advanceTimeBy(1.hours)
            // The hint, then the backoff for the second consecutive failure.
            uploader.calls.map { it.time } shouldBe listOf(0L, 42_000L, 44_000L)
        }
    }

    test("an upload that hangs is cancelled after uploadTimeout and counts as a failed round") {
        virtualQueue(events = 1) { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { call, batch -> if (call == 1) awaitCancellation() else succeed(batch) }
            val sync = startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onStart(), retryPolicy = FIXED, uploadTimeout = 1.minutes))
            advanceTimeBy(1.hours)
            uploader.calls.map { it.time } shouldBe listOf(0L, 61_000L)
            sync.progress.value.lastError!! shouldStartWith "upload timed out"
            queue.peek() shouldBe emptyList()
        }
    }

    test("an uploader that throws fails the round, not the sync") {
        virtualQueue(events = 1) { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { call, batch -> if (call == 1) throw java.io.IOException("reset") else succeed(batch) }
            val sync = startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onStart(), retryPolicy = FIXED))
            advanceTimeBy(1.hours)
            uploader.calls.map { it.time } shouldBe listOf(0L, 1_000L)
            sync.progress.value.lastError!! shouldContain "reset"
            sync.progress.value.uploaded shouldBe 1
        }
    }

    test("an event rejected more than maxRejections times goes to a dead-letter file that replayFile reads back; the rest is delivered") {
        virtualQueue(events = 3) { queue ->
            val file = tempDir().resolve("dead/letters.jsonl")
            val uploader = FakeUploader({ testScheduler.currentTime }) { _, batch ->
                UploadOutcome.Results(batch.map { BatchEventResult(it.eventId, if (it.eventId == "e2") SyncStatus.REJECTED else SyncStatus.SUCCESS, "schema mismatch") })
            }
            val sync = startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onDemand(), retryPolicy = FIXED, maxRejections = 2), deadLetters = DeadLetterFile(file))
            // The first flush delivers e1 and e3, then stops at a round that delivered nothing.
            sync.flushNow().let { listOf(it.uploaded, it.rejected, it.deadLettered, it.failure) } shouldBe
                listOf(2, 2, 0, "no event of 1 was acknowledged")
            queue.peek().single().let { it.eventId to it.retryCount } shouldBe ("e2" to 2)
            // The retry after the backoff dead-letters e2 on its third rejection and drains the queue.
            sync.flushNow().let { listOf(it.drained, it.deadLettered) } shouldBe listOf(true, 1)
            uploader.calls.map { it.time to it.ids } shouldBe listOf(0L to ids(1..3), 0L to listOf("e2"), 1_000L to listOf("e2"))
            queue.peek() shouldBe emptyList()
            DeadLetterFile(file).eventIds() shouldBe listOf("e2")
            val line = Json.parseToJsonElement(Files.readAllLines(file).single()).jsonObject
            line["reason"]!!.jsonPrimitive.content shouldBe "rejected 3 times: schema mismatch"
            line["retry_count"]!!.jsonPrimitive.int shouldBe 2
            sync.progress.value.let { listOf(it.uploaded, it.rejected, it.deadLettered, it.failedRounds) } shouldBe listOf(2, 2, 1, 1)
            OfflineQueue.open(tempDir().resolve("replay.db")).use { replay ->
                replay.replayFile(file) shouldBe 1
                replay.peek().single().let { it.eventId to it.payload } shouldBe ("e2" to """{"n":2}""")
            }
        }
    }

    test("FAILED_PERMANENT dead-letters at once with the server's message") {
        virtualQueue(events = 2) { queue ->
            val sink = MemorySink()
            val uploader = FakeUploader({ 0 }) { _, batch ->
                UploadOutcome.Results(listOf(BatchEventResult("e1", SyncStatus.FAILED_PERMANENT, "unknown type"), BatchEventResult("e2", SyncStatus.DUPLICATE)))
            }
            val sync = startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onDemand()), deadLetters = sink)
            sync.flushNow().let { it.deadLettered to it.duplicates } shouldBe (1 to 1)
            sink.letters.map { it.event.eventId to it.reason } shouldBe listOf("e1" to "unknown type")
            queue.peek() shouldBe emptyList()
        }
    }

    test("events the server did not answer stay queued and untouched, and are sent again") {
        virtualQueue(events = 3) { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { call, batch ->
                if (call == 1) UploadOutcome.Results(listOf(BatchEventResult("e1", SyncStatus.SUCCESS), BatchEventResult("e3", SyncStatus.FAILED_TRANSIENT))) else succeed(batch)
            }
            val sync = startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onDemand()))
            sync.flushNow().uploaded shouldBe 3
            uploader.calls.map { it.ids } shouldBe listOf(ids(1..3), listOf("e2", "e3"))
            uploader.calls.map { it.time } shouldBe listOf(0L, 0L) // the round delivered e1: no backoff
        }
    }

    test("a 413 halves the batch until the oversized event is alone, which is dead-lettered; the rest is uploaded") {
        virtualQueue { queue ->
            val blocking = queue.blocking()
            for (n in 1..8) blocking.queueEvent(event(n, if (n == 3) """{"pad":"${"x".repeat(5_000)}"}""" else """{"n":$n}"""))
            val sink = MemorySink()
            val uploader = FakeUploader({ 0 }) { _, batch -> if (batch.sumOf { it.payload.length } > 2_000) UploadOutcome.TooLarge else succeed(batch) }
            val sync = startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onDemand()), deadLetters = sink)
            val result = sync.flushNow()
            uploader.calls.map { it.ids.size } shouldBe listOf(8, 4, 2, 2, 1, 1, 4)
            sink.letters.map { it.event.eventId } shouldBe listOf("e3")
            sink.letters.single().reason shouldContain "too large"
            result.uploaded shouldBe 7
            result.requests shouldBe 7
            queue.peek() shouldBe emptyList()
        }
    }

    test("a batch holds at most maxBatchBytes by the EventSizer, and an event larger than that goes alone") {
        virtualQueue { queue ->
            val blocking = queue.blocking()
            for (n in 1..7) blocking.queueEvent(event(n, """{"pad":"${"x".repeat(if (n == 5) 500 else 20)}"}"""))
            val uploader = FakeUploader({ 0 }) { _, batch -> succeed(batch) }
            val sizer = EventSizer { it.payload.length }
            val sync = startSync(queue, uploader, SyncConfig(maxBatchBytes = 100, eventSize = sizer, policy = FlushPolicy.onDemand()))
            sync.flushNow()
            // Payloads are 31 bytes (e5: 511): three fit in 100.
            uploader.calls.map { it.ids } shouldBe listOf(ids(1..3), listOf("e4"), listOf("e5"), ids(6..7))
        }
    }

    test("while offline nothing is uploaded; flushNow waits for the network and then drains") {
        virtualQueue(events = 2) { queue ->
            val connectivity = Connectivity(initiallyOnline = false)
            val uploader = FakeUploader({ testScheduler.currentTime }) { _, batch -> succeed(batch) }
            val sync = startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onStart() + FlushPolicy.interval(1.seconds)), connectivity.online)
            val result = async { sync.flushNow() }
            advanceTimeBy(1.hours)
            uploader.calls.size shouldBe 0
            sync.progress.value.state shouldBe SyncState.WAITING_FOR_NETWORK
            result.isCompleted shouldBe false

            connectivity.setOnline(true)
            runCurrent()
            result.await().uploaded shouldBe 2
            uploader.calls.map { it.time } shouldBe listOf(1.hours.inWholeMilliseconds)
        }
    }

    test("close() finishes the batch in flight, applies it, flushes the acknowledgements and ends the job") {
        virtualQueue(events = 5) { queue ->
            val gate = CompletableDeferred<Unit>()
            val uploader = FakeUploader({ 0 }) { _, batch -> gate.await(); succeed(batch) }
            val flusher = quietFlusher(queue)
            val sync = startSync(queue, uploader, SyncConfig(maxBatchEvents = 2, policy = FlushPolicy.onStart()), flusher = flusher)
            runCurrent()
            uploader.calls.size shouldBe 1
            sync.close()
            sync.close() // harmless
            gate.complete(Unit)
            sync.join()
            uploader.calls.size shouldBe 1
            flusher.pending shouldBe 0 // flushed: deleted on disk
            queue.sizeFromDisk() shouldBe 3
            queue.peek().map { it.eventId } shouldBe ids(3..5)
            sync.progress.value.state shouldBe SyncState.STOPPED
            shouldThrow<IllegalStateException> { sync.flushNow() }
            shouldThrow<IllegalStateException> { sync.start(backgroundScope) }
        }
    }

    test("cancelling the caller's scope stops the sync; the interrupted batch stays queued and its flushNow caller is told") {
        virtualQueue(events = 3) { queue ->
            val scope = CoroutineScope(coroutineContext + Job())
            val uploader = FakeUploader({ 0 }) { _, _ -> awaitCancellation() }
            val sync = OfflineSync(queue, uploader, MemorySink(), SyncConfig(policy = FlushPolicy.onDemand()))
            val job = sync.start(scope)
            val waiting = async { runCatching { sync.flushNow() } }
            runCurrent()
            uploader.calls.size shouldBe 1
            scope.coroutineContext[Job]!!.cancel()
            job.join()
            job.isCancelled shouldBe true
            sync.progress.value.state shouldBe SyncState.STOPPED
            queue.peek().map { it.eventId } shouldBe ids(1..3)
            queue.sizeFromDisk() shouldBe 3
            waiting.await().isFailure shouldBe true
        }
    }

    test("a sync starts once, and flushNow needs a started sync") {
        virtualQueue { queue ->
            val sync = OfflineSync(queue, FakeUploader({ 0 }) { _, b -> succeed(b) }, MemorySink(), SyncConfig(policy = FlushPolicy.onDemand()))
            shouldThrow<IllegalStateException> { sync.flushNow() }.message shouldContain "not started"
            sync.start(backgroundScope)
            shouldThrow<IllegalStateException> { sync.start(backgroundScope) }.message shouldContain "already started"
            sync.close()
        }
    }

    test("its own flusher deletes acknowledged rows in batches while it runs and everything when it stops") {
        virtualQueue(events = 10) { queue ->
            val uploader = FakeUploader({ 0 }) { _, batch -> succeed(batch) }
            val sync = OfflineSync(queue, uploader, MemorySink(), SyncConfig(policy = FlushPolicy.onDemand()))
            sync.start(backgroundScope)
            sync.flushNow().uploaded shouldBe 10
            queue.peek() shouldBe emptyList()
            sync.close()
            sync.join()
            queue.size() shouldBe 0
            queue.sizeFromDisk() shouldBe 0
        }
    }
})

