package dev.spool.engine

/**
 * Instrumentation seen from inside the engine, for the optional Micrometer binder
 * (`dev.spool.queue.micrometer`). Methods run on the thread that observed the event (the writer
 * thread for commits, the caller for enqueues): keep them short and non-blocking. Exceptions they
 * throw are swallowed.
 */
internal interface EngineListener {
    /** A group of [commands] committed; [transactionNanos] spans `BEGIN IMMEDIATE` to `COMMIT`. */
    fun groupCommitted(commands: Int, transactionNanos: Long) {}

    /** An enqueue (queueEvent or append) completed, successfully or not, after [latencyNanos]. */
    fun enqueued(latencyNanos: Long) {}
}

/**
 * The listeners of one queue. With none attached (the default) the engine pays one volatile
 * read per group and per enqueue, and never reads the clock.
 */
internal class EngineListeners {
    @Volatile private var listeners: Array<EngineListener> = emptyArray()

    val active: Boolean get() = listeners.isNotEmpty()

    @Synchronized
    fun add(listener: EngineListener) {
        listeners += listener
    }

    @Synchronized
    fun remove(listener: EngineListener) {
        listeners = listeners.filter { it !== listener }.toTypedArray()
    }

    fun groupCommitted(commands: Int, transactionNanos: Long) {
        for (listener in listeners) runCatching { listener.groupCommitted(commands, transactionNanos) }
    }

    fun enqueued(latencyNanos: Long) {
        for (listener in listeners) runCatching { listener.enqueued(latencyNanos) }
    }
}
