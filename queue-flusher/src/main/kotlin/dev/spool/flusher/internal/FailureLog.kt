package dev.spool.flusher.internal

/**
 * The flush failures since the last sync point ([dev.spool.flusher.SyncedRowFlusher.flush] or
 * `close`): the first one, with the later ones attached as suppressed (at most [MAX_SUPPRESSED],
 * so a queue that keeps failing for hours does not grow memory). Thread-safe.
 */
internal class FailureLog {
    private var first: Throwable? = null

    @Synchronized
    fun add(error: Throwable) {
        val head = first
        when {
            head == null -> first = error
            head !== error && head.suppressed.size < MAX_SUPPRESSED -> head.addSuppressed(error)
        }
    }

    /** The failures since the last call, or null; clears them. */
    @Synchronized
    fun take(): Throwable? = first.also { first = null }

    private companion object {
        const val MAX_SUPPRESSED = 16
    }
}
