package dev.spool.ktor.internal

import dev.spool.ktor.AdminAction
import dev.spool.queue.EventCursor
import dev.spool.queue.OfflineQueue
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskState
import io.ktor.server.application.ApplicationCall
import io.ktor.server.plugins.origin
import org.slf4j.LoggerFactory
import java.time.Instant

/** The largest page any list route returns. */
internal const val MAX_PAGE: Int = 500

/** The page size when `limit` is absent. */
internal const val DEFAULT_PAGE: Int = 50

/**
 * One call to an [Endpoint]: typed access to its parameters, each failing with a 400 [ApiError]
 * naming the parameter, and to the queue it names.
 */
internal class Request(val call: ApplicationCall, private val mount: Mount) {
    private val query get() = call.request.queryParameters

    fun taskQueue(): TaskQueue {
        val name = call.parameters["queue"].orEmpty()
        return mount.taskQueues[name] ?: throw ApiError.unknownQueue(name)
    }

    fun offlineQueue(): OfflineQueue {
        val name = call.parameters["queue"].orEmpty()
        return mount.offlineQueues[name] ?: throw ApiError.unknownQueue(name)
    }

    val queueName: String get() = call.parameters["queue"].orEmpty()

    fun taskId(): TaskId = TaskId(positiveLong(call.parameters["id"], "id"))

    fun scheduleName(): String {
        val name = call.parameters["name"].orEmpty()
        if (name.isBlank() || name.length > 200) throw ApiError.badRequest("name", "name must be 1 to 200 characters")
        return name
    }

    fun limit(): Int {
        val raw = query["limit"] ?: return DEFAULT_PAGE
        val limit = raw.toIntOrNull()
        if (limit == null || limit !in 1..MAX_PAGE) throw ApiError.badRequest("limit", "limit must be an integer from 1 to $MAX_PAGE, was '$raw'")
        return limit
    }

    /** The `cursor` query parameter: the `nextCursor` of the previous page. */
    fun cursor(): TaskId? = query["cursor"]?.let { TaskId(positiveLong(it, "cursor")) }

    /** The `cursor` query parameter of the events route: the text of an [EventCursor]. */
    fun eventCursor(): EventCursor? {
        val raw = query["cursor"] ?: return null
        if (raw.length > MAX_CURSOR_LENGTH) throw ApiError.badRequest("cursor", "cursor must be the nextCursor of a previous page")
        return try {
            EventCursor.parse(raw)
        } catch (e: IllegalArgumentException) {
            throw ApiError.badRequest("cursor", "cursor must be the nextCursor of a previous page, was '$raw'")
        }
    }

    fun states(): Set<TaskState>? {
        val raw = query["state"] ?: return null
        val names = raw.split(',').map { it.trim() }.filter { it.isNotEmpty() }
        if (names.isEmpty()) throw ApiError.badRequest("state", "state must name at least one of ${TaskState.entries.joinToString()}")
        return names.mapTo(LinkedHashSet()) { name ->
            TaskState.entries.firstOrNull { it.name.equals(name, ignoreCase = true) }
                ?: throw ApiError.badRequest("state", "state '$name' is not one of ${TaskState.entries.joinToString()}")
        }
    }

    fun type(): String? {
        val raw = query["type"] ?: return null
        if (raw.isBlank() || raw.length > 200) throw ApiError.badRequest("type", "type must be 1 to 200 characters")
        return raw
    }

    fun positiveLongQuery(name: String, max: Long): Long {
        val raw = query[name] ?: throw ApiError.badRequest(name, "$name is required")
        val value = raw.toLongOrNull()
        if (value == null || value !in 0..max) throw ApiError.badRequest(name, "$name must be an integer from 0 to $max, was '$raw'")
        return value
    }

    /** Logs an admin action as a structured event and hands it to the configured listener. */
    fun audit(action: String, target: String, outcome: String) {
        val event = AdminAction(action, queueName, target, outcome, call.request.origin.remoteAddress, Instant.now())
        auditLog.atInfo()
            .addKeyValue("event", AdminAction.LOG_EVENT)
            .addKeyValue("action", event.action)
            .addKeyValue("queue", event.queue)
            .addKeyValue("target", event.target)
            .addKeyValue("outcome", event.outcome)
            .addKeyValue("remote", event.remoteHost)
            .log("{}: {} {} on queue {} -> {}", AdminAction.LOG_EVENT, event.action, event.target, event.queue, event.outcome)
        mount.onAdminAction?.invoke(event)
    }

    private fun positiveLong(raw: String?, field: String): Long {
        val value = raw?.toLongOrNull()
        if (value == null || value < 1) throw ApiError.badRequest(field, "$field must be a positive integer, was '${raw.orEmpty()}'")
        return value
    }

    private companion object {
        /** Two longs and a dot. */
        const val MAX_CURSOR_LENGTH = 41
        val auditLog = LoggerFactory.getLogger("dev.spool.ktor.audit")
    }
}
