package dev.spool.tasks

/**
 * Thrown when a [TaskQueue] call is refused before it reaches the writer, on the caller's thread,
 * because one of its arguments breaks the queue's rules: blank, too long, too large, out of range,
 * or a time outside the storable range. Nothing is written and the rest of the writer's group
 * commits as usual.
 *
 * @property field the offending parameter, such as `"payload"`, `"idempotencyKey"` or
 *   `"capabilities"`, as named on [TaskQueue].
 */
public class InvalidTaskArgumentException(
    public val field: String,
    message: String,
    cause: Throwable? = null,
) : IllegalArgumentException("$field $message", cause)
