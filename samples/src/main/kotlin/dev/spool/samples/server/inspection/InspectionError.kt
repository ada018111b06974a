package dev.spool.samples.server.inspection

import dev.spool.tasks.TaskId
import io.ktor.http.HttpStatusCode
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put

/**
 * An expected failure of an inspection request, answered as `{"error": code, "message": text}`
 * with [status]. Carries no stack trace (none is ever sent).
 *
 * @property status the HTTP status of the answer.
 * @property code a stable machine-readable code: `bad_request`, `not_found`, `no_task_queue`,
 *   `conflict` or `internal`.
 */
public class InspectionError(
    public val status: HttpStatusCode,
    public val code: String,
    message: String,
) : RuntimeException(message, null, false, false) {
    /** The JSON body of the answer. */
    public fun toJson(): JsonObject = buildJsonObject {
        put("error", code)
        put("message", message)
    }

    internal companion object {
        fun badRequest(message: String) = InspectionError(HttpStatusCode.BadRequest, "bad_request", message)

        fun notFound(id: TaskId) = InspectionError(HttpStatusCode.NotFound, "not_found", "no task with id ${id.value}")

        fun noTaskQueue() = InspectionError(HttpStatusCode.NotFound, "no_task_queue", "this server inspects no task queue")
    }
}
