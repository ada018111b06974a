package dev.spool.flusher.internal

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.withTimeoutOrNull
import kotlin.time.Duration

/**
 * The flusher's timer: one coroutine that wakes when ids are recorded and fires [flush] once
 * [maxBatch] ids are pending or [maxDelay] has passed since it woke, whichever comes first.
 *
 * It only waits; the delete itself runs on the queue's writer thread. Its delays therefore run
 * on whatever dispatcher [run] is launched on, including a test scheduler's virtual time.
 */
internal class FlushLoop(
    private val maxBatch: Int,
    private val maxDelay: Duration,
    private val pending: () -> Int,
    private val flush: suspend () -> Unit,
) {
    /** Conflated: many records between two wake-ups are one wake-up. */
    private val signals = Channel<Unit>(Channel.CONFLATED)

    /** Wakes the loop after ids were recorded. Never suspends; callable from any thread. */
    fun recorded() {
        signals.trySend(Unit)
    }

    /**
     * Runs until cancelled. [flush] must not throw: it reports its own failures. After a failed
     * flush the ids stay pending and the loop waits for the next record to try again.
     */
    suspend fun run(): Nothing {
        while (true) {
            signals.receive()
            if (pending() == 0) continue // Flushed meanwhile by an explicit flush().
            // The first pending id starts the clock; reaching maxBatch cuts it short.
            withTimeoutOrNull(maxDelay) {
                while (pending() < maxBatch) signals.receive()
            }
            if (pending() > 0) flush()
        }
    }
}
