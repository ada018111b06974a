package dev.spool.flusher

import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.toKotlinDuration

/**
 * When a [SyncedRowFlusher] deletes the rows it has recorded, and where its failures go. Kotlin
 * callers use named arguments; Java callers use [FlusherConfig.builder].
 *
 * A batch fires when [maxBatch] ids are pending, or [maxDelay] after the first pending id,
 * whichever comes first. Larger values mean fewer write transactions and a `size()` that lags
 * longer behind what the server has acknowledged; the rows are hidden from reads either way.
 *
 * @property maxBatch how many pending ids fire a flush at once.
 * @property maxDelay how long the first pending id may wait before a flush fires.
 *   [Duration.INFINITE] fires by size (and by explicit calls) only; zero flushes as soon as the
 *   flusher's coroutine runs.
 * @property errorHandler receives the failures of background flushes; see [FlushErrorHandler].
 *   The default logs them.
 * @throws IllegalArgumentException if [maxBatch] is not positive or [maxDelay] is negative.
 */
public class FlusherConfig(
    public val maxBatch: Int = 512,
    public val maxDelay: Duration = 100.milliseconds,
    public val errorHandler: FlushErrorHandler = FlushErrorHandler.LOG,
) {
    init {
        require(maxBatch >= 1) { "maxBatch must be at least 1, was $maxBatch" }
        require(!maxDelay.isNegative()) { "maxDelay must not be negative, was $maxDelay" }
    }

    /** A builder pre-filled with this configuration. */
    public fun newBuilder(): Builder = Builder(this)

    override fun toString(): String = "FlusherConfig(maxBatch=$maxBatch, maxDelay=$maxDelay)"

    /** Builds a [FlusherConfig] from Java. Every setter has the Kotlin constructor's default. */
    public class Builder internal constructor(from: FlusherConfig) {
        private var maxBatch = from.maxBatch
        private var maxDelay = from.maxDelay
        private var errorHandler = from.errorHandler

        /** Sets [FlusherConfig.maxBatch]. */
        public fun maxBatch(value: Int): Builder = apply { maxBatch = value }

        /** Sets [FlusherConfig.maxDelay]. */
        public fun maxDelay(value: java.time.Duration): Builder = apply { maxDelay = value.toKotlinDuration() }

        /** Sets [FlusherConfig.errorHandler]. */
        public fun errorHandler(value: FlushErrorHandler): Builder = apply { errorHandler = value }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException if maxBatch is not positive or maxDelay is negative.
         */
        public fun build(): FlusherConfig = FlusherConfig(maxBatch, maxDelay, errorHandler)
    }

    /** Factories for Java callers. */
    public companion object {
        /** A builder with every default. */
        @JvmStatic
        public fun builder(): Builder = Builder(FlusherConfig())
    }
}
