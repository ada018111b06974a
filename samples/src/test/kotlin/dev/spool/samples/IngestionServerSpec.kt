package dev.spool.samples

import dev.spool.queue.SyncStatus
import dev.spool.samples.client.OkHttpUploader
import dev.spool.sync.UploadOutcome
import dev.spool.samples.server.IngestionServer
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.ktor.server.application.install
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.routing
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import java.net.ConnectException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlin.time.Duration.Companion.seconds

private val http: HttpClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()

private fun get(base: URI, path: String): HttpResponse<String> =
    http.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString())

private fun post(base: URI, path: String): HttpResponse<String> =
    http.send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString())

private fun UploadOutcome.statuses(): Map<String, SyncStatus> =
    shouldBeInstanceOf<UploadOutcome.Results>().results.associate { it.eventId to it.status }

private fun UploadOutcome.failure(): String = shouldBeInstanceOf<UploadOutcome.Failed>().reason

class IngestionServerSpec : FunSpec({
    test("each event is answered success once and duplicate after that, and stored once") {
        IngestionServer().start().use { server ->
            val api = OkHttpUploader(server.baseUrl)
            val batch = (1..5).map { queued(it) }
            api.upload(batch).statuses() shouldBe (1..5).associate { "e$it" to SyncStatus.SUCCESS }
            api.upload(batch).statuses() shouldBe (1..5).associate { "e$it" to SyncStatus.DUPLICATE }
            server.store.counters().let { it.count to it.duplicates } shouldBe (5 to 5)
            get(server.baseUrl, Wire.COUNT_PATH).body() shouldContain "\"count\":5"
        }
    }

    test("a batch larger than the byte limit once decompressed gets 413 and stores nothing") {
        IngestionServer(maxBatchBytes = 2_000).start().use { server ->
            // 40 events of 100 repeated characters: far over 2,000 bytes as JSON, far under it gzipped.
            val batch = (1..40).map { queued(it, payloadChars = 100) }
            OkHttpUploader(server.baseUrl).upload(batch) shouldBe UploadOutcome.TooLarge
            server.store.count() shouldBe 0
        }
    }

    test("fault switches set by query fail the next requests, reject a type and add errors") {
        IngestionServer().start().use { server ->
            val api = OkHttpUploader(server.baseUrl)
            val batch = (1..3).map { queued(it) }
            post(server.baseUrl, "${Wire.FAULTS_PATH}?failStatus=500&failCount=2").statusCode() shouldBe 200
            api.upload(batch).failure() shouldBe "HTTP 500"
            api.upload(batch).failure() shouldBe "HTTP 500"
            post(server.baseUrl, "${Wire.FAULTS_PATH}?failStatus=401&failCount=1").statusCode() shouldBe 200
            api.upload(batch).failure() shouldBe "HTTP 401"
            server.store.count() shouldBe 0

            post(server.baseUrl, "${Wire.FAULTS_PATH}?rejectType=tap").statusCode() shouldBe 200
            api.upload(batch).statuses().values.toSet() shouldBe setOf(SyncStatus.REJECTED)
            post(server.baseUrl, "${Wire.FAULTS_PATH}?rejectType=&errorRate=1.0").statusCode() shouldBe 200
            api.upload(batch).statuses().values.toSet() shouldBe setOf(SyncStatus.REJECTED)
            post(server.baseUrl, "${Wire.FAULTS_PATH}?errorRate=0").statusCode() shouldBe 200
            api.upload(batch).statuses().values.toSet() shouldBe setOf(SyncStatus.SUCCESS)

            post(server.baseUrl, "${Wire.FAULTS_PATH}?errorRate=2").statusCode() shouldBe 400
            get(server.baseUrl, Wire.FAULTS_PATH).body() shouldContain "\"errorRate\":0.0"
        }
    }

    test("offline refuses connections, and online serves the same port with the same events") {
        IngestionServer().start().use { server ->
            val api = OkHttpUploader(server.baseUrl)
            api.upload(listOf(queued(1))).statuses() shouldBe mapOf("e1" to SyncStatus.SUCCESS)
            val port = server.port
            server.goOffline()
            server.isOnline shouldBe false
            shouldThrow<ConnectException> { get(server.baseUrl, Wire.COUNT_PATH) }
            api.upload(listOf(queued(2))).failure() shouldContain "I/O error"
            server.goOnline()
            server.port shouldBe port
            get(server.baseUrl, Wire.COUNT_PATH).body() shouldContain "\"count\":1"
        }
    }

    test("offlineMs by query answers first, then refuses connections for exactly that long") {
        // The server's timers run on a virtual clock that only this test moves: no real-time window to miss.
        val clock = kotlinx.coroutines.test.TestCoroutineScheduler()
        IngestionServer(timerContext = kotlinx.coroutines.test.StandardTestDispatcher(clock)).start().use { server ->
            post(server.baseUrl, "${Wire.FAULTS_PATH}?offlineMs=400").statusCode() shouldBe 200
            server.isOnline shouldBe true // the answer came first
            // The handler schedules the switch after answering; step virtual time until it ran.
            val deadline = System.nanoTime() + 10_000_000_000L
            while (server.isOnline && System.nanoTime() < deadline) {
                clock.advanceTimeBy(100)
                clock.runCurrent()
                if (server.isOnline) Thread.sleep(5)
            }
            server.isOnline shouldBe false
            shouldThrow<ConnectException> { get(server.baseUrl, Wire.COUNT_PATH) }
            clock.advanceTimeBy(399)
            clock.runCurrent()
            server.isOnline shouldBe false
            shouldThrow<ConnectException> { get(server.baseUrl, Wire.COUNT_PATH) }
            clock.advanceTimeBy(1)
            clock.runCurrent()
            server.isOnline shouldBe true
            get(server.baseUrl, Wire.COUNT_PATH).statusCode() shouldBe 200
        }
    }

    test("extra modules install routes beside the ingestion routes") {
        val extra: io.ktor.server.application.Application.() -> Unit = {
            routing { get("/extra") { call.respondText("hello") } }
        }
        IngestionServer(modules = listOf(extra)).start().use { server ->
            get(server.baseUrl, "/extra").body() shouldBe "hello"
            get(server.baseUrl, Wire.COUNT_PATH).statusCode() shouldBe 200
        }
    }

    test("the Spool inspection plugin mounts beside the ingestion routes") {
        val dir = java.nio.file.Files.createTempDirectory("spool-ingestion-inspection")
        dev.spool.queue.OfflineQueue.open(dir.resolve("events.db")).use { queue ->
            queue.queueEvent(dev.spool.queue.QueueEvent("e1", "click", "{}"))
            val inspection: io.ktor.server.application.Application.() -> Unit = {
                install(dev.spool.ktor.SpoolInspection) { offlineQueue("client", queue) }
            }
            IngestionServer(modules = listOf(inspection)).start().use { server ->
                val overview = get(server.baseUrl, "/spool/api/overview")
                overview.statusCode() shouldBe 200
                overview.body() shouldContain "\"size\":1"
                get(server.baseUrl, "/spool/").statusCode() shouldBe 200
                get(server.baseUrl, Wire.COUNT_PATH).statusCode() shouldBe 200
            }
        }
    }

    test("going offline during the latency loses the answer but keeps the stored events") {
        IngestionServer().start().use { server ->
            server.faults.latency = 5.seconds
            val api = OkHttpUploader(server.baseUrl)
            // On another thread; its outcome or exception comes back through await().
            val upload = async(Dispatchers.IO) { api.upload(listOf(queued(1))) }
            val deadline = System.nanoTime() + 5_000_000_000L
            while (server.store.count() == 0 && System.nanoTime() < deadline) Thread.sleep(5)
            server.goOffline()
            upload.await().failure() shouldContain "I/O error"
            server.store.ids() shouldBe listOf("e1")
        }
    }
})
