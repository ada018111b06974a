package dev.spool.samples

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
import dev.spool.queue.OfflineQueue
import dev.spool.samples.client.Acknowledger
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlin.time.Duration.Companion.hours
import dev.spool.queue.QueueEvent
import dev.spool.samples.client.Batch
import dev.spool.samples.client.Connectivity
import dev.spool.samples.client.DeadLetterFile
import dev.spool.samples.client.IngestionApi
import dev.spool.samples.client.SyncConfig
import dev.spool.samples.client.SyncWorker
import dev.spool.samples.client.UploadResult
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files

/** A fake server: answers with [answer] and records the ids of every batch it was sent. */
private class FakeApi(val answer: (Batch) -> UploadResult) : IngestionApi {
    val sent = ArrayList<List<String>>()
    override suspend fun upload(batch: Batch): UploadResult {
        sent += batch.events.map { it.eventId }
        return answer(batch)
    }
}

private fun allSucceed(batch: Batch) = UploadResult.Answered(batch.events.associate { it.eventId to Wire.Status.SUCCESS })

private suspend fun OfflineQueue.fill(n: Int, big: Set<Int> = emptySet()) {
    for (i in 1..n) {
        val pad = if (i in big) "x".repeat(5_000) else ""
        queueEvent(QueueEvent("e$i", "tap", """{"n":$i,"pad":"$pad"}"""))
    }
}

class SyncWorkerSpec : FunSpec({
    test("a 413 halves the batch until the oversized event is alone, which is dead-lettered; the rest is uploaded") {
        val dir = tempDir()
        OfflineQueue.open(dir.resolve("q.db")).use { queue ->
            queue.fill(8, big = setOf(3))
            val api = FakeApi { batch -> if (batch.body.size > 2_000) UploadResult.TooLarge else allSucceed(batch) }
            val deadLetters = DeadLetterFile(dir.resolve("dead.jsonl"))
            val worker = SyncWorker(queue, api, Connectivity(true), deadLetters)

            worker.syncOnce() shouldBe SyncWorker.Round.SYNCED

            api.sent.map { it.size } shouldBe listOf(8, 4, 2, 2, 1, 1, 4)
            deadLetters.eventIds() shouldBe listOf("e3")
            Files.readString(deadLetters.path) shouldContain "larger than the server's limit"
            queue.size() shouldBe 0
            queue.sizeFromDisk() shouldBe 0
            worker.progress.value.let { it.uploaded to it.deadLettered } shouldBe (7 to 1)
        }
    }

    test("401, 5xx and I/O errors fail the whole batch and leave retry counts unchanged") {
        OfflineQueue.open(tempDir().resolve("q.db")).use { queue ->
            queue.fill(5)
            for (failure in listOf(UploadResult.Transient("HTTP 401"), UploadResult.Transient("HTTP 503"), UploadResult.Transient("I/O error"))) {
                val worker = SyncWorker(queue, FakeApi { failure }, Connectivity(true), DeadLetterFile(tempDir().resolve("dead.jsonl")))
                worker.syncOnce() shouldBe SyncWorker.Round.FAILED_TRANSIENT
                worker.progress.value.lastError shouldBe failure.reason
            }
            queue.peek().map { it.eventId to it.retryCount } shouldBe (1..5).map { "e$it" to 0 }
        }
    }

    test("an event rejected more than maxRejections times moves to a dead-letter file that replayFile reads back") {
        val dir = tempDir()
        OfflineQueue.open(dir.resolve("q.db")).use { queue ->
            queue.fill(3)
            val api = FakeApi { batch ->
                UploadResult.Answered(
                    batch.events.associate { it.eventId to if (it.eventId == "e2") Wire.Status.ERROR else Wire.Status.SUCCESS },
                    errors = mapOf("e2" to "schema mismatch"),
                )
            }
            val deadLetters = DeadLetterFile(dir.resolve("dead.jsonl"))
            val worker = SyncWorker(queue, api, Connectivity(true), deadLetters, config = SyncConfig(maxRejections = 2))

            worker.syncOnce() shouldBe SyncWorker.Round.SYNCED
            queue.peek().map { it.eventId to it.retryCount } shouldBe listOf("e2" to 1)
            worker.syncOnce()
            queue.peek().map { it.eventId to it.retryCount } shouldBe listOf("e2" to 2)
            deadLetters.eventIds() shouldBe emptyList()
            worker.syncOnce()

            queue.sizeFromDisk() shouldBe 0
            deadLetters.eventIds() shouldBe listOf("e2")
            Files.readString(deadLetters.path) shouldContain "rejected 3 times: schema mismatch"
            worker.syncOnce() shouldBe SyncWorker.Round.IDLE
            OfflineQueue.open(dir.resolve("replay.db")).use { replay ->
                replay.replayFile(deadLetters.path) shouldBe 1
                replay.peek().single().let { Triple(it.eventId, it.retryCount, it.payload) } shouldBe
                    Triple("e2", 2, """{"n":2,"pad":""}""")
            }
        }
    }

    test("a batch refused with another 4xx counts as one rejection of each event") {
        OfflineQueue.open(tempDir().resolve("q.db")).use { queue ->
            queue.fill(3)
            val worker = SyncWorker(queue, FakeApi { UploadResult.Refused(422) }, Connectivity(true), DeadLetterFile(tempDir().resolve("d.jsonl")))
            worker.syncOnce() shouldBe SyncWorker.Round.SYNCED
            queue.peek().map { it.retryCount } shouldBe listOf(1, 1, 1)
        }
    }

    test("an event the server did not answer for stays untouched") {
        OfflineQueue.open(tempDir().resolve("q.db")).use { queue ->
            queue.fill(3)
            val api = FakeApi { UploadResult.Answered(mapOf("e1" to Wire.Status.SUCCESS, "e3" to Wire.Status.DUPLICATE)) }
            SyncWorker(queue, api, Connectivity(true), DeadLetterFile(tempDir().resolve("d.jsonl"))).syncOnce()
            queue.peek().map { it.eventId to it.retryCount } shouldBe listOf("e2" to 0)
        }
    }

    test("through the flusher, acknowledged rows leave the next peek at once and the disk on flush") {
        OfflineQueue.open(tempDir().resolve("q.db")).use { queue ->
            queue.fill(5)
            val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
            SyncedRowFlusher(queue, FlusherConfig(maxDelay = 1.hours), scope).use { flusher ->
                val api = FakeApi { batch -> allSucceed(batch) }
                val worker = SyncWorker(queue, api, Connectivity(true), DeadLetterFile(tempDir().resolve("d.jsonl")), Acknowledger.flusher(flusher))
                worker.syncOnce() shouldBe SyncWorker.Round.SYNCED
                flusher.pending shouldBe 5
                queue.sizeFromDisk() shouldBe 5
                worker.syncOnce() shouldBe SyncWorker.Round.IDLE
                api.sent.size shouldBe 1
                flusher.flush() shouldBe 5
                queue.size() shouldBe 0
                queue.sizeFromDisk() shouldBe 0
            }
            scope.cancel()
        }
    }
})
