package dev.spool.samples

import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import dev.spool.samples.client.OkHttpUploader
import dev.spool.samples.server.IngestionServer
import dev.spool.sync.UploadOutcome
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.Application
import io.ktor.server.response.header
import io.ktor.server.response.respondText
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.int
import java.io.IOException
import java.net.URI
import java.time.Instant
import kotlin.time.Duration.Companion.seconds

/** Answers `POST /status/{code}` with that status and, if given, the `retry` query as `Retry-After`. */
private val statusRoutes: Application.() -> Unit = {
    routing {
        post("/status/{code}") {
            call.request.queryParameters["retry"]?.let { call.response.header("Retry-After", it) }
            call.respondText("status", status = HttpStatusCode.fromValue(call.parameters["code"]!!.toInt()))
        }
    }
}

private fun UploadOutcome.failed(): UploadOutcome.Failed = shouldBeInstanceOf<UploadOutcome.Failed>()

class OkHttpUploaderSpec : FunSpec({
    val batch: List<QueuedEvent> = (1..3).map { queued(it) }

    test("a 200 maps each answered event: success, duplicate, and error as REJECTED with the server's message") {
        IngestionServer().start().use { server ->
            OkHttpUploader(server.baseUrl).use { uploader ->
                uploader.upload(batch.take(1))
                server.faults.rejectedEventType = "legacy"
                val legacy = queued(99).let { QueuedEvent("legacy-1", "legacy", it.payload, null, null, it.timestamp, 0, it.revision) }
                val results = uploader.upload(batch + legacy).shouldBeInstanceOf<UploadOutcome.Results>().results
                results.associate { it.eventId to it.status } shouldBe mapOf(
                    "e1" to SyncStatus.DUPLICATE,
                    "e2" to SyncStatus.SUCCESS,
                    "e3" to SyncStatus.SUCCESS,
                    "legacy-1" to SyncStatus.REJECTED,
                )
                results.single { it.eventId == "legacy-1" }.error shouldBe "rejected by the server"
                results.filter { it.status != SyncStatus.REJECTED }.map { it.error } shouldBe listOf(null, null, null)
            }
        }
    }

    test("the wire body carries each event's fields and its payload as JSON, not as a string") {
        IngestionServer().start().use { server ->
            OkHttpUploader(server.baseUrl).use { it.upload(listOf(queued(7))) }
            val stored = server.store.events().single()
            (stored["event_id"] as JsonPrimitive).content shouldBe "e7"
            (stored["event_type"] as JsonPrimitive).content shouldBe "tap"
            (stored["timestamp"] as JsonPrimitive).content.toLong() shouldBe 1_700_000_000_007L
            ((stored["payload"] as JsonObject)["n"] as JsonPrimitive).int shouldBe 7
        }
    }

    test("413 is TooLarge; 500, 502 and 401 are Failed without a hint") {
        IngestionServer(modules = listOf(statusRoutes)).start().use { server ->
            for (code in listOf(413, 500, 502, 401)) {
                val outcome = OkHttpUploader(server.baseUrl, batchPath = "/status/$code").use { it.upload(batch) }
                if (code == 413) {
                    outcome shouldBe UploadOutcome.TooLarge
                } else {
                    outcome.failed().reason shouldBe "HTTP $code"
                    outcome.failed().retryAfter.shouldBeNull()
                }
            }
        }
    }

    test("429 and 503 carry the Retry-After hint, in seconds or as an HTTP date") {
        IngestionServer(modules = listOf(statusRoutes)).start().use { server ->
            OkHttpUploader(server.baseUrl, batchPath = "/status/429?retry=7").use { uploader ->
                uploader.upload(batch).failed().retryAfter shouldBe 7.seconds
            }
            val now = Instant.parse("2026-01-01T00:00:00Z")
            OkHttpUploader(server.baseUrl, batchPath = "/status/503?retry=Thu,%2001%20Jan%202026%2000:00:30%20GMT", now = { now }).use { uploader ->
                uploader.upload(batch).failed().retryAfter shouldBe 30.seconds
            }
            OkHttpUploader(server.baseUrl, batchPath = "/status/503").use { uploader ->
                uploader.upload(batch).failed().retryAfter.shouldBeNull()
            }
        }
    }

    test("another 4xx rejects every event of the batch with the status") {
        IngestionServer(modules = listOf(statusRoutes)).start().use { server ->
            OkHttpUploader(server.baseUrl, batchPath = "/status/400").use { uploader ->
                val results = uploader.upload(batch).shouldBeInstanceOf<UploadOutcome.Results>().results
                results.map { it.eventId to it.status } shouldBe batch.map { it.eventId to SyncStatus.REJECTED }
                results.map { it.error }.toSet() shouldBe setOf("HTTP 400")
            }
        }
    }

    test("a refused connection is Failed with the IOException as its cause") {
        IngestionServer().start().use { server ->
            server.goOffline()
            OkHttpUploader(server.baseUrl).use { uploader ->
                val failed = uploader.upload(batch).failed()
                failed.reason shouldStartWith "I/O error"
                failed.cause.shouldBeInstanceOf<IOException>()
            }
            server.store.count() shouldBe 0
        }
    }

    test("a base URL that is not http names the field") {
        shouldThrow<IllegalArgumentException> { OkHttpUploader(URI("ftp://example.com/")) }.message shouldContain "baseUrl"
    }
})
