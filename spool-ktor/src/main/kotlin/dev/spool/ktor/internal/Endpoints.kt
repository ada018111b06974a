package dev.spool.ktor.internal

import dev.spool.queue.OfflineQueue
import dev.spool.tasks.TaskFilter
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskState
import io.ktor.http.HttpMethod
import io.ktor.http.HttpStatusCode
import kotlinx.serialization.json.add
import kotlinx.serialization.json.addJsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonArray
import java.time.Instant

/** Every JSON route of the plugin. Routes and the OpenAPI document are both made from [all]. */
internal object Endpoints {
    private val queueParam = Parameter("queue", Parameter.Location.PATH, Schema.Str(), "A queue name given to the plugin")
    private val idParam = Parameter("id", Parameter.Location.PATH, Schema.Integer(), "A task id")
    private val limitParam = Parameter("limit", Parameter.Location.QUERY, Schema.Integer("int32"), "Largest page, 1 to $MAX_PAGE (default $DEFAULT_PAGE)")
    private val cursorParam = Parameter("cursor", Parameter.Location.QUERY, Schema.Str(), "The nextCursor of the previous page")
    private val eventCursorParam = Parameter(
        "cursor", Parameter.Location.QUERY, Schema.Str(),
        "The nextCursor of the previous page: a position in FIFO order, so events acknowledged or appended meanwhile shift nothing",
    )
    private val scheduleParam = Parameter("name", Parameter.Location.PATH, Schema.Str(), "A schedule name")
    private val typeParam = Parameter("type", Parameter.Location.QUERY, Schema.Str(), "Only tasks of this type")
    private val stateParam = Parameter("state", Parameter.Location.QUERY, Schema.Str(), "Comma-separated task states, any case, such as queued,leased")

    private val bad = HttpStatusCode.BadRequest
    private val notFound = HttpStatusCode.NotFound
    private val conflict = HttpStatusCode.Conflict

    fun all(mount: Mount): List<Endpoint> = listOf(
        Endpoint(
            HttpMethod.Get, "/queues", "listQueues", "The inspected queues and what this installation allows",
            Access.READ, emptyList(), Schemas.ref("Queues"), emptySet(),
        ) {
            buildJsonObject {
                putJsonArray("queues") {
                    mount.offlineQueues.keys.forEach { addJsonObject { put("name", it); put("kind", "offline") } }
                    mount.taskQueues.keys.forEach { addJsonObject { put("name", it); put("kind", "tasks") } }
                }
                put("adminEnabled", mount.auth.adminEnabled)
                put("readsProtected", mount.auth.readsProtected)
            }
        },
        Endpoint(
            HttpMethod.Get, "/overview", "getOverview",
            "Live counts of every queue, from the counts the queues keep (what the dashboard polls)",
            Access.READ, emptyList(), Schemas.ref("Overview"), emptySet(),
        ) {
            val tasks = mount.taskQueues.map { (name, queue) -> name to queue.stats() }
            // O(1) figures only: the writer's count and the first event by the FIFO index.
            val oldest = mount.offlineQueues.mapValues { (_, queue) -> queue.peekPage(limit = 1).events.firstOrNull()?.timestamp }
            val now = Instant.now()
            buildJsonObject {
                putJsonArray("offline") {
                    mount.offlineQueues.forEach { (name, queue) ->
                        addJsonObject {
                            put("name", name)
                            put("size", queue.sizes.value)
                            put("maxQueueSize", queue.config.maxQueueSize)
                            put("oldestEventAgeMs", oldest[name]?.let { java.time.Duration.between(it, now).toMillis().coerceAtLeast(0) })
                        }
                    }
                }
                putJsonArray("tasks") {
                    tasks.forEach { (name, stats) ->
                        addJsonObject {
                            put("name", name)
                            putByState(stats)
                            put("succeeded", stats.succeeded)
                            put("failed", stats.failed)
                            put("activeWorkers", stats.activeWorkers)
                            put("oldestQueuedAgeMs", stats.oldestQueuedAge?.inWholeMilliseconds)
                        }
                    }
                }
            }
        },
        Endpoint(
            HttpMethod.Get, "/offline/{queue}/stats", "getOfflineQueueStats",
            "Statistics of an offline queue (OfflineQueue.stats): grouped counts, cached until the file changes; not polled by the dashboard",
            Access.READ, listOf(queueParam), Schemas.ref("OfflineQueueStats"), emptySet(),
        ) { request ->
            val queue: OfflineQueue = request.offlineQueue()
            queue.stats().toJson(queue.sizes.value, queue.deferredSync.pending)
        },
        Endpoint(
            HttpMethod.Get, "/offline/{queue}/events", "listPendingEvents", "A page of pending events of an offline queue, oldest first",
            Access.READ, listOf(queueParam, limitParam, eventCursorParam), Schemas.ref("EventPage"), setOf(bad),
        ) { request ->
            val queue = request.offlineQueue()
            val limit = request.limit()
            val page = queue.peekPage(limit, request.eventCursor())
            buildJsonObject {
                putJsonArray("events") { page.events.forEach { add(it.toJson()) } }
                put("nextCursor", page.nextCursor?.toString())
                put("size", queue.sizes.value)
            }
        },
        Endpoint(
            HttpMethod.Get, "/tasks/{queue}/stats", "getTaskQueueStats", "Statistics of a task queue (TaskQueue.stats)",
            Access.READ, listOf(queueParam), Schemas.ref("TaskQueueStats"), emptySet(),
        ) { request -> request.taskQueue().stats().toJson() },
        Endpoint(
            HttpMethod.Get, "/tasks/{queue}/tasks", "listTasks", "A page of tasks in ascending id order, filtered by state and type",
            Access.READ, listOf(queueParam, stateParam, typeParam, limitParam, cursorParam), Schemas.ref("TaskPage"), setOf(bad),
        ) { request -> page(request, request.states()) },
        Endpoint(
            HttpMethod.Get, "/tasks/{queue}/dead-letters", "listDeadLetters", "A page of dead-lettered tasks in ascending id order",
            Access.READ, listOf(queueParam, typeParam, limitParam, cursorParam), Schemas.ref("TaskPage"), setOf(bad),
        ) { request -> page(request, setOf(TaskState.DEAD_LETTER)) },
        Endpoint(
            HttpMethod.Get, "/tasks/{queue}/tasks/{id}", "getTask", "One task with its transition log",
            Access.READ, listOf(queueParam, idParam), Schemas.ref("TaskDetail"), setOf(bad, notFound),
        ) { request ->
            val queue = request.taskQueue()
            val id = request.taskId()
            val task = queue.get(id) ?: throw ApiError.notFound("no task with id ${id.value}")
            val log = queue.taskLog(id)
            buildJsonObject {
                put("task", task.toJson())
                putJsonArray("log") { log.forEach { add(it.toJson()) } }
            }
        },
        Endpoint(
            HttpMethod.Get, "/tasks/{queue}/workers", "listWorkers", "The worker registry, stale workers flagged",
            Access.READ, listOf(queueParam), Schemas.ref("Workers"), emptySet(),
        ) { request ->
            val workers = request.taskQueue().workers()
            buildJsonObject { putJsonArray("workers") { workers.sortedBy { it.workerId }.forEach { add(it.toJson()) } } }
        },
        Endpoint(
            HttpMethod.Get, "/tasks/{queue}/throughput", "getThroughput", "Completions and failures per interval over the last minutes",
            Access.READ, listOf(queueParam), Schemas.ref("Throughput"), emptySet(),
        ) { request ->
            request.taskQueue()
            mount.samplers.getValue(request.queueName).toJson()
        },
        Endpoint(
            HttpMethod.Get, "/tasks/{queue}/schedules", "listSchedules", "The recurring schedules, by name",
            Access.READ, listOf(queueParam), Schemas.ref("Schedules"), emptySet(),
        ) { request ->
            val schedules = request.taskQueue().schedules()
            buildJsonObject { putJsonArray("schedules") { schedules.sortedBy { it.name }.forEach { add(it.toJson()) } } }
        },
        Endpoint(
            HttpMethod.Post, "/tasks/{queue}/schedules/{name}/pause", "pauseSchedule",
            "Admin: pause a schedule (its queued occurrence is cancelled; a running one finishes)",
            Access.ADMIN, listOf(queueParam, scheduleParam), Schemas.ref("Schedule"), setOf(bad, notFound),
        ) { request -> scheduleAction(request, "pause") { queue, name -> queue.pauseSchedule(name) } },
        Endpoint(
            HttpMethod.Post, "/tasks/{queue}/schedules/{name}/resume", "resumeSchedule", "Admin: resume a paused schedule",
            Access.ADMIN, listOf(queueParam, scheduleParam), Schemas.ref("Schedule"), setOf(bad, notFound),
        ) { request -> scheduleAction(request, "resume") { queue, name -> queue.resumeSchedule(name) } },
        Endpoint(
            HttpMethod.Post, "/tasks/{queue}/tasks/{id}/requeue", "requeueTask", "Admin: put a dead-lettered task back in the queue",
            Access.ADMIN, listOf(queueParam, idParam), Schemas.ref("Task"), setOf(bad, notFound, conflict),
        ) { request -> taskAction(request, "requeue", "DEAD_LETTER") { queue, id -> queue.requeue(id) } },
        Endpoint(
            HttpMethod.Post, "/tasks/{queue}/tasks/{id}/cancel", "cancelTask", "Admin: cancel a queued or leased task",
            Access.ADMIN, listOf(queueParam, idParam), Schemas.ref("Task"), setOf(bad, notFound, conflict),
        ) { request -> taskAction(request, "cancel", "QUEUED or LEASED") { queue, id -> queue.cancel(id) } },
        Endpoint(
            HttpMethod.Post, "/tasks/{queue}/purge", "purgeFinished",
            "Admin: delete finished tasks (SUCCEEDED, DEAD_LETTER, CANCELLED) last changed more than olderThanSeconds ago",
            Access.ADMIN,
            listOf(queueParam, Parameter("olderThanSeconds", Parameter.Location.QUERY, Schema.Integer(), "Age in seconds, 0 to $MAX_PURGE_AGE_SECONDS", required = true)),
            Schemas.ref("Purged"), setOf(bad),
        ) { request ->
            val queue = request.taskQueue()
            val age = request.positiveLongQuery("olderThanSeconds", MAX_PURGE_AGE_SECONDS)
            val deleted = queue.purgeFinished(Instant.now().minusSeconds(age))
            request.audit("purge", "olderThanSeconds=$age", "deleted $deleted")
            buildJsonObject { put("deleted", deleted) }
        },
    )

    /** Ten years: larger ages are surely a mistake. */
    private const val MAX_PURGE_AGE_SECONDS = 315_360_000L

    private suspend fun page(request: Request, states: Set<TaskState>?): kotlinx.serialization.json.JsonObject {
        val queue = request.taskQueue()
        val filter = TaskFilter(states = states, type = request.type(), limit = request.limit())
        val page = queue.list(filter, request.cursor())
        return buildJsonObject {
            putJsonArray("tasks") { page.tasks.forEach { add(it.toJson()) } }
            put("nextCursor", page.nextCursor?.value?.toString())
        }
    }

    private suspend fun scheduleAction(
        request: Request,
        action: String,
        perform: suspend (TaskQueue, String) -> Boolean,
    ): kotlinx.serialization.json.JsonObject {
        val queue = request.taskQueue()
        val name = request.scheduleName()
        if (!perform(queue, name)) {
            request.audit(action, "schedule $name", "not_found")
            throw ApiError.notFound("no schedule named '$name'")
        }
        val schedule = queue.schedules().firstOrNull { it.name == name } ?: throw ApiError.notFound("no schedule named '$name'")
        request.audit(action, "schedule $name", if (schedule.paused) "ok: now paused" else "ok: now running")
        return schedule.toJson()
    }

    private suspend fun taskAction(
        request: Request,
        action: String,
        allowedFrom: String,
        perform: suspend (TaskQueue, dev.spool.tasks.TaskId) -> Boolean,
    ): kotlinx.serialization.json.JsonObject {
        val queue = request.taskQueue()
        val id = request.taskId()
        val done = perform(queue, id)
        val task = queue.get(id)
        if (task == null) {
            request.audit(action, "task ${id.value}", "not_found")
            throw ApiError.notFound("no task with id ${id.value}")
        }
        if (!done) {
            request.audit(action, "task ${id.value}", "conflict: ${task.state}")
            throw ApiError.conflict("task ${id.value} is ${task.state}; $action needs $allowedFrom")
        }
        request.audit(action, "task ${id.value}", "ok: now ${task.state}")
        return task.toJson()
    }
}
