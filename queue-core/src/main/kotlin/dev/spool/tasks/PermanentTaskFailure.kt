package dev.spool.tasks

/**
 * Thrown by a [TaskHandler] for a failure that retrying cannot fix (say, a malformed payload): the
 * [TaskWorker] dead-letters the task at once instead of retrying it.
 */
public class PermanentTaskFailure @JvmOverloads constructor(
    message: String,
    cause: Throwable? = null,
) : RuntimeException(message, cause)
