package dev.spool.ktor.internal

import io.ktor.http.HttpStatusCode
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put

/**
 * An expected refusal of an inspection request, answered as
 * `{"error": code, "message": text, "field": name}` with [status]. Never carries a stack trace.
 */
internal class ApiError(
    val status: HttpStatusCode,
    val code: ErrorCode,
    message: String,
    val field: String? = null,
) : RuntimeException(message, null, false, false) {
    fun toJson(): JsonObject = buildJsonObject {
        put("error", code.wire)
        put("message", message)
        put("field", field)
    }

    companion object {
        fun badRequest(field: String, message: String) = ApiError(HttpStatusCode.BadRequest, ErrorCode.BAD_REQUEST, message, field)

        fun notFound(message: String) = ApiError(HttpStatusCode.NotFound, ErrorCode.NOT_FOUND, message)

        fun unknownQueue(name: String) = ApiError(HttpStatusCode.NotFound, ErrorCode.UNKNOWN_QUEUE, "no queue named '$name' is inspected here", "queue")

        fun conflict(message: String) = ApiError(HttpStatusCode.Conflict, ErrorCode.CONFLICT, message)
    }
}

/** Every error code the routes answer with; the OpenAPI document lists exactly these. */
internal enum class ErrorCode(val wire: String) {
    BAD_REQUEST("bad_request"),
    UNAUTHORIZED("unauthorized"),
    ADMIN_DISABLED("admin_disabled"),
    NOT_FOUND("not_found"),
    UNKNOWN_QUEUE("unknown_queue"),
    CONFLICT("conflict"),
    UNAVAILABLE("unavailable"),
    INTERNAL("internal"),
}
