package dev.spool.engine

import org.slf4j.Logger

/**
 * Spool's stable log messages. Each is logged through SLF4J's fluent API with the key-values
 * `spool.event` (the constant's id below) and `spool.queue` (the queue name), so a structured
 * backend can match on keys instead of text. The templates and ids are part of the operational
 * contract: changing one is a breaking change, listed in the CHANGELOG.
 *
 * | id                          | level | template                                                    |
 * |-----------------------------|-------|-------------------------------------------------------------|
 * | `queue.evicted`             | WARN  | [EVICTED]                                                   |
 * | `queue.strict_cap_refused`  | WARN  | [STRICT_CAP_REFUSED]                                        |
 * | `queue.dead_lettered`       | WARN  | [DEAD_LETTERED]                                             |
 * | `queue.checkpoint_failed`   | WARN  | [CHECKPOINT_FAILED], or [TASK_CHECKPOINT_FAILED] for a task queue |
 *
 * Templates name the kind of queue ("Offline queue", "Task queue") the way its user knows it;
 * see [QueueKind].
 */
internal object LogEvents {
    const val EVICTED = "Offline queue '{}' reached its cap of {} events: evicted the {} oldest event(s)"
    const val STRICT_CAP_REFUSED = "Offline queue '{}' refused {} event(s) at its strict cap of {}"
    const val DEAD_LETTERED = "Offline queue '{}' dropped {} event(s) the server rejected permanently: {}"
    const val CHECKPOINT_FAILED = "Offline queue '{}' could not checkpoint its WAL ({} mode, WAL {} bytes): {}"
    const val TASK_CHECKPOINT_FAILED = "Task queue '{}' could not checkpoint its WAL ({} mode, WAL {} bytes): {}"

    /** Logs [template] at WARN with the stable keys and [args] for its placeholders. */
    fun warn(logger: Logger, id: String, queue: String, template: String, vararg args: Any?) {
        if (!logger.isWarnEnabled) return
        var builder = logger.atWarn()
            .setMessage(template)
            .addKeyValue("spool.event", id)
            .addKeyValue("spool.queue", queue)
            .addArgument(queue)
        for (arg in args) builder = builder.addArgument(arg)
        builder.log()
    }
}
