package dev.spool.samples.server.inspection

import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueEvent
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.ktor.server.engine.EmbeddedServer
import io.ktor.server.engine.embeddedServer
import io.ktor.server.netty.Netty
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path

private class Reply(val status: Int, val contentType: String?, val body: String) {
    val json: JsonObject get() = Json.parseToJsonElement(body).jsonObject
}

/** A real server on a loopback port, spoken to with java.net.http. */
private class Fixture(val queue: OfflineQueue, val tasks: TaskQueue?) : AutoCloseable {
    private val server: EmbeddedServer<*, *> =
        embeddedServer(Netty, port = 0, host = "127.0.0.1") { queueInspection(queue, tasks) }.start(wait = false)
    private val port = kotlinx.coroutines.runBlocking { server.engine.resolvedConnectors().first().port }
    private val client = HttpClient.newHttpClient()

    fun get(path: String) = send(HttpRequest.newBuilder(uri(path)).GET().build())

    fun post(path: String) = send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()).build())

    private fun uri(path: String) = URI.create("http://127.0.0.1:$port$path")

    private fun send(request: HttpRequest): Reply {
        val response = client.send(request, HttpResponse.BodyHandlers.ofString())
        return Reply(response.statusCode(), response.headers().firstValue("Content-Type").orElse(null), response.body())
    }

    override fun close() {
        server.stop(100, 1000)
        tasks?.close()
        queue.close()
    }
}

private fun dir(): Path = Files.createTempDirectory("spool-inspection")

private fun fixture(withTasks: Boolean = true): Fixture {
    val dir = dir()
    val queue = OfflineQueue.open(dir.resolve("events.db"))
    val tasks = if (withTasks) TaskQueue.open(dir.resolve("tasks.db")) else null
    return Fixture(queue, tasks)
}

class QueueInspectionSpec : FunSpec({
    test("GET /queue/stats reports both queues") {
        fixture().use { f ->
            repeat(3) { f.queue.queueEvent(QueueEvent("e$it", if (it == 0) "view" else "click", "{}")) }
            f.queue.deferredSync.record(listOf("e0"))
            f.tasks!!.enqueue("email", """{"to":"a@b.c"}""")
            f.tasks.enqueue("email", "{}")
            f.tasks.enqueue("resize", "{}")

            val reply = f.get("/queue/stats")
            reply.status shouldBe 200
            reply.contentType!! shouldContain "application/json"
            val offline = reply.json["offlineQueue"]!!.jsonObject
            offline["size"]!!.jsonPrimitive.int shouldBe 3
            offline["totalQueued"]!!.jsonPrimitive.int shouldBe 3
            offline["pendingAcknowledgements"]!!.jsonPrimitive.int shouldBe 1
            offline["topEventTypes"]!!.jsonArray[0].jsonObject["type"]!!.jsonPrimitive.content shouldBe "click"
            val taskStats = reply.json["taskQueue"]!!.jsonObject
            taskStats["byState"]!!.jsonObject["QUEUED"]!!.jsonPrimitive.int shouldBe 3
            taskStats["depth"]!!.jsonObject["email"]!!.jsonObject["QUEUED"]!!.jsonPrimitive.int shouldBe 2
        }
    }

    test("GET /queue/stats without a task queue reports it as null") {
        fixture(withTasks = false).use { f ->
            val reply = f.get("/queue/stats")
            reply.status shouldBe 200
            reply.json["taskQueue"] shouldBe JsonNull
            reply.json["offlineQueue"]!!.jsonObject["size"]!!.jsonPrimitive.int shouldBe 0
        }
    }

    test("GET /queue/tasks/{id} returns the task, 404 for an unknown id and 400 for a malformed one") {
        fixture().use { f ->
            val id = f.tasks!!.enqueue("email", """{"to":"a@b.c"}""", priority = 7, idempotencyKey = "k1")
            val reply = f.get("/queue/tasks/${id.value}")
            reply.status shouldBe 200
            reply.json["id"]!!.jsonPrimitive.long shouldBe id.value
            reply.json["type"]!!.jsonPrimitive.content shouldBe "email"
            reply.json["state"]!!.jsonPrimitive.content shouldBe "QUEUED"
            reply.json["priority"]!!.jsonPrimitive.int shouldBe 7
            reply.json["idempotencyKey"]!!.jsonPrimitive.content shouldBe "k1"
            reply.json["payload"]!!.jsonObject["to"]!!.jsonPrimitive.content shouldBe "a@b.c"

            val missing = f.get("/queue/tasks/999999")
            missing.status shouldBe 404
            missing.json["error"]!!.jsonPrimitive.content shouldBe "not_found"

            for (bad in listOf("abc", "0", "-3", "99999999999999999999")) {
                val reply400 = f.get("/queue/tasks/$bad")
                reply400.status shouldBe 400
                reply400.json["error"]!!.jsonPrimitive.content shouldBe "bad_request"
                reply400.body shouldNotContain "Exception"
                reply400.body shouldNotContain "\tat "
            }
        }
    }

    test("GET /queue/tasks filters by status and type and pages with a cursor") {
        fixture().use { f ->
            val tasks = f.tasks!!
            val emails = List(5) { tasks.enqueue("email", """{"n":$it}""") }
            val resize = tasks.enqueue("resize", "{}")
            tasks.cancel(emails[1]) shouldBe true

            fun ids(reply: Reply) = reply.json["tasks"]!!.jsonArray.map { it.jsonObject["id"]!!.jsonPrimitive.long }

            val first = f.get("/queue/tasks?status=queued&type=email&limit=2")
            first.status shouldBe 200
            ids(first) shouldContainExactly listOf(emails[0].value, emails[2].value)
            val pages = mutableListOf(ids(first))
            var cursor = first.json["nextCursor"]!!
            while (cursor != JsonNull) {
                val next = f.get("/queue/tasks?status=QUEUED&type=email&limit=2&cursor=${cursor.jsonPrimitive.long}")
                next.status shouldBe 200
                pages += ids(next)
                cursor = next.json["nextCursor"]!!
            }
            pages.all { it.size <= 2 } shouldBe true
            pages.flatten() shouldContainExactly listOf(emails[0], emails[2], emails[3], emails[4]).map { it.value }

            ids(f.get("/queue/tasks?status=cancelled")) shouldContainExactly listOf(emails[1].value)
            ids(f.get("/queue/tasks?status=queued,cancelled&type=resize")) shouldContainExactly listOf(resize.value)
            ids(f.get("/queue/tasks")).size shouldBe 6
        }
    }

    test("GET /queue/tasks answers 400 with a JSON error for a bad filter") {
        fixture().use { f ->
            for (query in listOf("status=SLEEPING", "status=", "limit=0", "limit=1001", "limit=ten", "cursor=x", "cursor=0", "type=")) {
                val reply = f.get("/queue/tasks?$query")
                reply.status shouldBe 400
                reply.json["error"]!!.jsonPrimitive.content shouldBe "bad_request"
                reply.json["message"]!!.jsonPrimitive.content.isNotBlank() shouldBe true
            }
        }
    }

    test("POST /queue/tasks/{id}/cancel cancels a queued task, 409 once final, 404 when unknown") {
        fixture().use { f ->
            val id = f.tasks!!.enqueue("email", "{}")
            val reply = f.post("/queue/tasks/${id.value}/cancel")
            reply.status shouldBe 200
            reply.json["state"]!!.jsonPrimitive.content shouldBe "CANCELLED"
            f.tasks.get(id)!!.state shouldBe TaskState.CANCELLED

            val again = f.post("/queue/tasks/${id.value}/cancel")
            again.status shouldBe 409
            again.json["error"]!!.jsonPrimitive.content shouldBe "conflict"

            val unknown = f.post("/queue/tasks/424242/cancel")
            unknown.status shouldBe 404
            unknown.json["error"]!!.jsonPrimitive.content shouldBe "not_found"
            f.post("/queue/tasks/nope/cancel").status shouldBe 400
        }
    }

    test("task endpoints without a task queue answer 404 no_task_queue") {
        fixture(withTasks = false).use { f ->
            for (reply in listOf(f.get("/queue/tasks"), f.get("/queue/tasks/1"), f.post("/queue/tasks/1/cancel"))) {
                reply.status shouldBe 404
                reply.json["error"]!!.jsonPrimitive.content shouldBe "no_task_queue"
            }
        }
    }

    test("a failure inside a handler is a JSON 500 without a stack trace") {
        val f = fixture()
        f.use {
            f.tasks!!.close() // every task call now throws IllegalStateException
            val reply = f.get("/queue/tasks/1")
            reply.status shouldBe 500
            reply.json["error"]!!.jsonPrimitive.content shouldBe "internal"
            reply.body shouldNotContain "IllegalStateException"
            reply.body shouldNotContain "closed"
        }
    }

    test("GET /openapi.json serves an OpenAPI document describing every endpoint") {
        fixture().use { f ->
            val reply = f.get("/openapi.json")
            reply.status shouldBe 200
            reply.contentType!! shouldContain "application/json"
            reply.json["openapi"]!!.jsonPrimitive.content shouldBe "3.0.3"
            val paths = reply.json["paths"]!!.jsonObject
            paths.keys shouldBe setOf("/queue/stats", "/queue/tasks", "/queue/tasks/{id}", "/queue/tasks/{id}/cancel", "/openapi.json")
            paths["/queue/tasks/{id}/cancel"]!!.jsonObject.keys shouldBe setOf("post")
            (paths["/queue/tasks"]!!.jsonObject["get"]!!.jsonObject["parameters"] as JsonArray)
                .map { it.jsonObject["name"]!!.jsonPrimitive.content } shouldContainExactly listOf("status", "type", "limit", "cursor")
        }
    }
})

