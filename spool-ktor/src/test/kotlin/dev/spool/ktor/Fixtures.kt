package dev.spool.ktor

import dev.spool.queue.OfflineQueue
import dev.spool.tasks.TaskQueue
import io.ktor.server.application.install
import io.ktor.server.engine.EmbeddedServer
import io.ktor.server.engine.embeddedServer
import io.ktor.server.netty.Netty
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path

const val ADMIN = "admin-token-0123456789"
const val READER = "read-token-0123456789"

class Reply(val status: Int, val headers: java.net.http.HttpHeaders, val body: String) {
    val json: JsonObject get() = Json.parseToJsonElement(body).jsonObject
    val element: JsonElement get() = Json.parseToJsonElement(body)
    val error: String get() = json["error"]!!.jsonPrimitive.content
    val contentType: String get() = headers.firstValue("Content-Type").orElse("")
}

fun tempDir(): Path = Files.createTempDirectory("spool-ktor")

/**
 * A real Netty server on a loopback port with the plugin installed, real queues on real files,
 * spoken to with java.net.http.
 */
class Served(
    val events: OfflineQueue,
    val tasks: TaskQueue,
    configure: SpoolInspectionConfig.() -> Unit = {},
) : AutoCloseable {
    val server: EmbeddedServer<*, *> = embeddedServer(Netty, port = 0, host = "127.0.0.1") {
        install(SpoolInspection) {
            offlineQueue("events", events)
            taskQueue("jobs", tasks)
            configure()
        }
    }.start(wait = false)
    val port: Int = runBlocking { server.engine.resolvedConnectors().first().port }
    private val client = HttpClient.newHttpClient()

    val baseUrl: String get() = "http://127.0.0.1:$port"

    fun get(path: String, token: String? = null): Reply = send(builder(path, token).GET())

    fun post(path: String, token: String? = null): Reply = send(builder(path, token).POST(HttpRequest.BodyPublishers.noBody()))

    fun api(path: String, token: String? = null): Reply = get("/spool/api$path", token)

    private fun builder(path: String, token: String?): HttpRequest.Builder {
        val builder = HttpRequest.newBuilder(URI.create(baseUrl + path))
        if (token != null) builder.header("Authorization", "Bearer $token")
        return builder
    }

    private fun send(builder: HttpRequest.Builder): Reply {
        val response = client.send(builder.build(), HttpResponse.BodyHandlers.ofString())
        return Reply(response.statusCode(), response.headers(), response.body())
    }

    override fun close() {
        server.stop(100, 1000)
        tasks.close()
        events.close()
    }

    companion object {
        fun open(configure: SpoolInspectionConfig.() -> Unit = {}): Served {
            val dir = tempDir()
            return Served(OfflineQueue.open(dir.resolve("events.db")), TaskQueue.open(dir.resolve("tasks.db")), configure)
        }
    }
}

/** Enqueues a task of [type] and fails it for good as worker "w": [type] must have no other queued task. */
suspend fun TaskQueue.deadLetter(type: String = "mail", error: String = "smtp down"): dev.spool.tasks.TaskId {
    val id = enqueue(type, """{"to":"a@b.c"}""", maxAttempts = 1)
    val claimed = claim("w", types = setOf(type)).single()
    check(claimed.id == id) { "another $type task was queued" }
    fail(claimed.lease!!, error) shouldBeResult dev.spool.tasks.AckResult.DEAD_LETTERED
    return id
}

private infix fun dev.spool.tasks.AckResult.shouldBeResult(expected: dev.spool.tasks.AckResult) {
    check(this == expected) { "expected $expected, was $this" }
}
