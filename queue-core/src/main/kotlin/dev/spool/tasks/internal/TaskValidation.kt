package dev.spool.tasks.internal

import dev.spool.engine.utf8Length
import dev.spool.tasks.InternalSpoolApi
import dev.spool.tasks.InvalidTaskArgumentException
import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.Json
import java.time.Instant
import kotlin.time.Duration

// The limits and checks every TaskQueue applies to its arguments, shared with the PostgreSQL
// TaskQueue (through InternalSpoolApi) so both backends refuse the same input with the same
// InvalidTaskArgumentException naming the same field.

/** The longest task type (and schedule type), in characters. */
@InternalSpoolApi
public const val MAX_TYPE_LENGTH: Int = 200

/** The highest priority; the lowest is 0. */
@InternalSpoolApi
public const val MAX_PRIORITY: Int = 1_000_000

/** The longest stored error, in characters; longer ones are cut by [truncateError]. */
@InternalSpoolApi
public const val MAX_ERROR_LENGTH: Int = 8_000

/** The longest idempotency key and worker id, in characters. */
@InternalSpoolApi
public const val MAX_ID_LENGTH: Int = 256

/** The longest capability (in `requires`, `capabilities` and `types`), in characters. */
@InternalSpoolApi
public const val MAX_NAME_LENGTH: Int = 200

/** The most capabilities (or types) one call may pass. */
@InternalSpoolApi
public const val MAX_SET_SIZE: Int = 100

private fun invalid(field: String, message: String, cause: Throwable? = null): Nothing =
    throw InvalidTaskArgumentException(field, message, cause)

/**
 * Checks a task [type]: not blank, at most [MAX_TYPE_LENGTH] characters.
 *
 * @throws InvalidTaskArgumentException naming [field] if not.
 */
@InternalSpoolApi
public fun validateType(type: String, field: String = "type") {
    if (type.isBlank()) invalid(field, "must not be blank")
    if (type.length > MAX_TYPE_LENGTH) invalid(field, "must be at most $MAX_TYPE_LENGTH characters, was ${type.length}")
}

/** [payload] is JSON of at most [maxBytes] UTF-8 bytes; the size is checked first, without encoding. */
@InternalSpoolApi
public fun validatePayload(payload: String, maxBytes: Int) {
    val bytes = utf8Length(payload)
    if (bytes > maxBytes) invalid("payload", "is $bytes bytes, larger than maxPayloadBytes ($maxBytes)")
    try {
        Json.parseToJsonElement(payload)
    } catch (e: SerializationException) {
        invalid("payload", "must be JSON: ${e.message?.lineSequence()?.firstOrNull()}", e)
    }
}

/**
 * Checks a [priority] is in `0..`[MAX_PRIORITY].
 *
 * @throws InvalidTaskArgumentException naming `priority` if not.
 */
@InternalSpoolApi
public fun validatePriority(priority: Int) {
    if (priority !in 0..MAX_PRIORITY) invalid("priority", "must be in 0..$MAX_PRIORITY, was $priority")
}

/** The longest schedule name, in characters. */
@InternalSpoolApi
public const val MAX_SCHEDULE_NAME_LENGTH: Int = 200

/**
 * Checks a schedule [name]: not blank, at most [MAX_SCHEDULE_NAME_LENGTH] characters.
 *
 * @throws InvalidTaskArgumentException naming `name` if not.
 */
@InternalSpoolApi
public fun validateScheduleName(name: String) {
    if (name.isBlank()) invalid("name", "must not be blank")
    if (name.length > MAX_SCHEDULE_NAME_LENGTH) invalid("name", "must be at most $MAX_SCHEDULE_NAME_LENGTH characters, was ${name.length}")
}

/**
 * Checks [maxAttempts] is at least 1.
 *
 * @throws InvalidTaskArgumentException naming `maxAttempts` if not.
 */
@InternalSpoolApi
public fun validateMaxAttempts(maxAttempts: Int) {
    if (maxAttempts < 1) invalid("maxAttempts", "must be at least 1, was $maxAttempts")
}

/**
 * Checks an idempotency [key], if any: not blank, at most [MAX_ID_LENGTH] characters.
 *
 * @throws InvalidTaskArgumentException naming `idempotencyKey` if not.
 */
@InternalSpoolApi
public fun validateIdempotencyKey(key: String?) {
    if (key == null) return
    if (key.isBlank()) invalid("idempotencyKey", "must not be blank")
    if (key.length > MAX_ID_LENGTH) invalid("idempotencyKey", "must be at most $MAX_ID_LENGTH characters, was ${key.length}")
}

/**
 * Checks a [workerId]: not blank, at most [MAX_ID_LENGTH] characters.
 *
 * @throws InvalidTaskArgumentException naming `workerId` if not.
 */
@InternalSpoolApi
public fun validateWorkerId(workerId: String) {
    if (workerId.isBlank()) invalid("workerId", "must not be blank")
    if (workerId.length > MAX_ID_LENGTH) invalid("workerId", "must be at most $MAX_ID_LENGTH characters, was ${workerId.length}")
}

/** A set of capabilities ([field] `requires` or `capabilities`): bounded in size, each value not blank and bounded. */
@InternalSpoolApi
public fun validateStrings(field: String, values: Set<String>) {
    if (values.size > MAX_SET_SIZE) invalid(field, "must have at most $MAX_SET_SIZE values, had ${values.size}")
    for (value in values) {
        if (value.isBlank()) invalid(field, "must not contain a blank value")
        if (value.length > MAX_NAME_LENGTH) invalid(field, "values must be at most $MAX_NAME_LENGTH characters, one was ${value.length}")
    }
}

/** The `types` a claim accepts: null for all, else not empty, bounded, each a valid type. */
@InternalSpoolApi
public fun validateTypes(types: Set<String>?) {
    if (types == null) return
    if (types.isEmpty()) invalid("types", "must not be empty; pass null to accept every type")
    if (types.size > MAX_SET_SIZE) invalid("types", "must have at most $MAX_SET_SIZE values, had ${types.size}")
    types.forEach { validateType(it, "types") }
}

/**
 * Checks a lease time-to-live [ttl] is positive and finite.
 *
 * @throws InvalidTaskArgumentException naming [field] if not.
 */
@InternalSpoolApi
public fun validateTtl(field: String, ttl: Duration) {
    if (!(ttl.isPositive() && ttl.isFinite())) invalid(field, "must be positive and finite, was $ttl")
}

/**
 * [instant] as the epoch milliseconds it is stored as.
 *
 * @throws InvalidTaskArgumentException naming [field] if it lies outside the storable range
 *   (a `Long` of epoch milliseconds: about 292 million years either side of 1970), such as
 *   [Instant.MAX] or [Instant.MIN]. Checked on the caller's thread, so the writer never sees it.
 */
@InternalSpoolApi
public fun storableMillis(field: String, instant: Instant): Long = try {
    instant.toEpochMilli()
} catch (e: ArithmeticException) {
    invalid(field, "is outside the storable range of epoch milliseconds, was $instant", e)
}

/** Keeps stored errors bounded: a handler's stack trace can be huge. */
@InternalSpoolApi
public fun truncateError(error: String): String =
    if (error.length <= MAX_ERROR_LENGTH) error else error.take(MAX_ERROR_LENGTH - 1) + "…"
