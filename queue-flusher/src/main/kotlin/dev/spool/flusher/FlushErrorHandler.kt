package dev.spool.flusher

import org.slf4j.LoggerFactory

/**
 * Receives the failures of flushes that no caller is waiting for: those a [SyncedRowFlusher]
 * starts on its own, when `maxBatch` ids are pending or `maxDelay` has passed.
 *
 * The same failure is also kept and thrown by the next [SyncedRowFlusher.flush] or
 * [SyncedRowFlusher.close], so a handler is for logging and metrics, not for recovery: the ids
 * of a failed flush stay pending and are deleted by a later one.
 *
 * **Threading.** Called on the flusher's scope, one failure at a time. It should return quickly
 * and must not call [SyncedRowFlusher.flush] or [SyncedRowFlusher.close] on the same flusher
 * (the flusher would wait for itself). If it throws, the exception is logged and ignored: a
 * handler can never stop the flusher or cancel its scope.
 */
public fun interface FlushErrorHandler {
    /**
     * Called with the exception of one failed background flush: a
     * [dev.spool.storage.QueueStorageException] if the delete could not be committed, an
     * [IllegalStateException] if the queue was closed.
     */
    public fun onError(error: Throwable)

    /** Handlers provided by Spool. */
    public companion object {
        /** The default handler: logs each failure as an SLF4J warning, with its stack trace. */
        @JvmField
        public val LOG: FlushErrorHandler = FlushErrorHandler { error ->
            LoggerFactory.getLogger(SyncedRowFlusher::class.java)
                .warn("A background flush failed; its ids stay pending for the next flush", error)
        }
    }
}
