package dev.spool.tasks.postgres.internal

import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.Json
import kotlin.time.Duration

// The same limits and messages as the SQLite TaskQueue (queue-core's internal TaskValidation),
// so both backends refuse the same input with the same field names.

internal const val MAX_TYPE_LENGTH = 200
internal const val MAX_PRIORITY = 1_000_000
internal const val MAX_ERROR_LENGTH = 8_000

internal fun validateType(type: String) {
    require(type.isNotBlank()) { "type must not be blank" }
    require(type.length <= MAX_TYPE_LENGTH) { "type must be at most $MAX_TYPE_LENGTH characters, was ${type.length}" }
}

internal fun validatePayload(payload: String) {
    try {
        Json.parseToJsonElement(payload)
    } catch (e: SerializationException) {
        throw IllegalArgumentException("payload must be JSON: ${e.message?.lineSequence()?.firstOrNull()}", e)
    }
}

internal fun validateWorkerId(workerId: String) {
    require(workerId.isNotBlank()) { "workerId must not be blank" }
}

internal fun validateStrings(field: String, values: Set<String>) {
    require(values.none { it.isBlank() }) { "$field must not contain a blank value" }
}

internal fun validateTtl(field: String, ttl: Duration) {
    require(ttl.isPositive() && ttl.isFinite()) { "$field must be positive and finite, was $ttl" }
}

internal fun truncateError(error: String): String =
    if (error.length <= MAX_ERROR_LENGTH) error else error.take(MAX_ERROR_LENGTH - 1) + "…"
