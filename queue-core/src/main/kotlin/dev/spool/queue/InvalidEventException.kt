package dev.spool.queue

/**
 * Thrown when an event is refused before it reaches the disk: nothing is stored and the count
 * is unchanged.
 *
 * @property field the offending field of [QueueEvent], such as `"eventId"` or `"payload"`.
 */
public class InvalidEventException(
    public val field: String,
    message: String,
    cause: Throwable? = null,
) : IllegalArgumentException("Invalid $field: $message", cause)
