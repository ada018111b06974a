package dev.spool.samples.server.inspection

import dev.spool.maintenance.Maintenance
import dev.spool.queue.OfflineQueue
import dev.spool.tasks.TaskFilter
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskState
import io.ktor.http.ContentType
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.Application
import io.ktor.server.response.respondText
import io.ktor.server.routing.RoutingContext
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import kotlinx.coroutines.CancellationException
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.add
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonArray
import org.slf4j.LoggerFactory

private val logger = LoggerFactory.getLogger("dev.spool.samples.server.inspection")

/** The largest page `GET /queue/tasks` returns. */
public const val MAX_TASK_PAGE: Int = 1000

/**
 * Installs read-mostly HTTP inspection endpoints for an [OfflineQueue] and, optionally, a
 * [TaskQueue]. Documented in OpenAPI 3 at `GET /openapi.json`.
 *
 * - `GET /queue/stats`: both queues' statistics; `taskQueue` is null without [tasks].
 * - `GET /queue/tasks/{id}`: one task.
 * - `GET /queue/tasks?status=&type=&limit=&cursor=`: a page of tasks in id order; `status` is a
 *   comma-separated list of [TaskState] names (any case); `limit` is 1 to [MAX_TASK_PAGE]
 *   (default 100); `cursor` is the `nextCursor` of the previous page.
 * - `POST /queue/tasks/{id}/cancel`: cancels a queued or leased task.
 *
 * Every response is JSON. Errors are `{"error": code, "message": text}` with a status: 400
 * `bad_request` for a malformed id or filter, 404 `not_found` for an unknown task, 404
 * `no_task_queue` for task endpoints when [tasks] is null, 409 `conflict` when cancelling a
 * task that already finished, 500 `internal` for anything else, whose details go to the server
 * log only, never to the client.
 *
 * Installs no application plugin (only routes), so it sits beside other modules such as the
 * ingestion server. It has no authentication: expose it on a trusted interface only.
 */
public fun Application.queueInspection(queue: OfflineQueue, tasks: TaskQueue? = null) {
    routing {
        get("/openapi.json") {
            val spec = OPENAPI ?: throw IllegalStateException("openapi.json is missing from the classpath")
            call.respondText(spec, ContentType.Application.Json)
        }
        get("/queue/stats") {
            inspect {
                val offline = queue.stats()
                val walBytes = runCatching { Maintenance.of(queue).walSizeBytes() }.getOrNull()
                val taskStats = tasks?.stats()
                HttpStatusCode.OK to buildJsonObject {
                    put("offlineQueue", offline.toJson(queue.sizes.value, queue.deferredSync.pending, walBytes))
                    put("taskQueue", taskStats?.toJson() ?: JsonNull)
                }
            }
        }
        get("/queue/tasks") {
            inspect {
                val taskQueue = tasks ?: throw InspectionError.noTaskQueue()
                val query = call.request.queryParameters
                val filter = TaskFilter(
                    states = query["status"]?.let(::parseStates),
                    type = query["type"]?.also { if (it.isBlank()) throw InspectionError.badRequest("type must not be blank") },
                    limit = query["limit"]?.let(::parseLimit) ?: 100,
                )
                val cursor = query["cursor"]?.let { TaskId(parseId(it, "cursor")) }
                val page = taskQueue.list(filter, cursor)
                HttpStatusCode.OK to buildJsonObject {
                    putJsonArray("tasks") { page.tasks.forEach { add(it.toJson()) } }
                    put("nextCursor", page.nextCursor?.value)
                }
            }
        }
        get("/queue/tasks/{id}") {
            inspect {
                val taskQueue = tasks ?: throw InspectionError.noTaskQueue()
                val id = TaskId(parseId(call.parameters["id"], "id"))
                val task = taskQueue.get(id) ?: throw InspectionError.notFound(id)
                HttpStatusCode.OK to task.toJson()
            }
        }
        post("/queue/tasks/{id}/cancel") {
            inspect {
                val taskQueue = tasks ?: throw InspectionError.noTaskQueue()
                val id = TaskId(parseId(call.parameters["id"], "id"))
                if (taskQueue.cancel(id)) {
                    val task = taskQueue.get(id) ?: throw InspectionError.notFound(id)
                    HttpStatusCode.OK to task.toJson()
                } else {
                    val task = taskQueue.get(id) ?: throw InspectionError.notFound(id)
                    throw InspectionError(
                        HttpStatusCode.Conflict, "conflict",
                        "task ${id.value} is already ${task.state} and cannot be cancelled",
                    )
                }
            }
        }
    }
}

private val OPENAPI: String? = InspectionError::class.java
    .getResourceAsStream("/dev/spool/samples/server/inspection/openapi.json")
    ?.use { it.readBytes().toString(Charsets.UTF_8) }

/** Runs [handler] and answers with its JSON, or with a JSON error: never with a stack trace. */
private suspend fun RoutingContext.inspect(handler: suspend RoutingContext.() -> Pair<HttpStatusCode, JsonElement>) {
    val (status, body) = try {
        handler()
    } catch (e: CancellationException) {
        throw e
    } catch (e: InspectionError) {
        e.status to e.toJson()
    } catch (e: Exception) {
        logger.error("Inspection request {} {} failed", call.request.local.method.value, call.request.local.uri, e)
        HttpStatusCode.InternalServerError to InspectionError(HttpStatusCode.InternalServerError, "internal", "internal error").toJson()
    }
    call.respondText(body.toString(), ContentType.Application.Json, status)
}

private fun parseId(raw: String?, field: String): Long {
    val id = raw?.toLongOrNull()
    if (id == null || id < 1) throw InspectionError.badRequest("$field must be a positive integer, was '${raw.orEmpty()}'")
    return id
}

private fun parseLimit(raw: String): Int {
    val limit = raw.toIntOrNull()
    if (limit == null || limit !in 1..MAX_TASK_PAGE) {
        throw InspectionError.badRequest("limit must be an integer from 1 to $MAX_TASK_PAGE, was '$raw'")
    }
    return limit
}

private fun parseStates(raw: String): Set<TaskState> {
    val names = raw.split(',').map { it.trim() }.filter { it.isNotEmpty() }
    if (names.isEmpty()) throw InspectionError.badRequest("status must name at least one state")
    return names.mapTo(LinkedHashSet()) { name ->
        TaskState.entries.firstOrNull { it.name.equals(name, ignoreCase = true) }
            ?: throw InspectionError.badRequest("status '$name' is not one of ${TaskState.entries.joinToString()}")
    }
}
