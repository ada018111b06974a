package dev.spool.sync

import dev.spool.tasks.RetryPolicy
import kotlin.random.Random
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toKotlinDuration

/**
 * How an [OfflineSync] batches, when it flushes, and how it retries. Kotlin callers use named
 * arguments; Java callers use [SyncConfig.builder].
 *
 * @property maxBatchEvents the most events per upload.
 * @property maxBatchBytes the most bytes per upload, as measured by [eventSize]. A batch is the
 *   longest run of the oldest events within both limits; an event larger than [maxBatchBytes] on
 *   its own is still sent, alone, so the server can refuse it ([UploadOutcome.TooLarge]) and the
 *   queue never stalls behind it.
 * @property eventSize how many bytes an event adds to a body.
 * @property policy when a flush starts; see [FlushPolicy].
 * @property retryPolicy the backoff after consecutive failed rounds (a whole batch failed, or a
 *   round removed nothing from the queue). A server's retry-after hint replaces it for that wait.
 * @property maxRejections how many times the server may reject an event
 *   ([dev.spool.queue.SyncStatus.REJECTED]) before the next rejection dead-letters it.
 * @property uploadTimeout how long one [Uploader.upload] may take before it is cancelled and the
 *   batch counts as failed.
 * @property random the source of the backoff's jitter; seed it for reproducible runs.
 * @throws IllegalArgumentException if a limit is not positive or [maxRejections] is negative
 *   (the message names the field).
 */
public class SyncConfig(
    public val maxBatchEvents: Int = 100,
    public val maxBatchBytes: Int = 512 * 1024,
    public val eventSize: EventSizer = EventSizer.DEFAULT,
    public val policy: FlushPolicy = FlushPolicy.DEFAULT,
    public val retryPolicy: RetryPolicy = RetryPolicy(base = 1.seconds, factor = 2.0, max = 5.minutes, jitter = 0.5),
    public val maxRejections: Int = 3,
    public val uploadTimeout: Duration = 60.seconds,
    public val random: Random = Random.Default,
) {
    init {
        require(maxBatchEvents >= 1) { "maxBatchEvents must be at least 1, was $maxBatchEvents" }
        require(maxBatchBytes >= 1) { "maxBatchBytes must be at least 1, was $maxBatchBytes" }
        require(maxRejections >= 0) { "maxRejections must not be negative, was $maxRejections" }
        require(uploadTimeout.isPositive()) { "uploadTimeout must be positive, was $uploadTimeout" }
    }

    /** A builder pre-filled with this configuration. */
    public fun newBuilder(): Builder = Builder(this)

    override fun toString(): String =
        "SyncConfig(maxBatchEvents=$maxBatchEvents, maxBatchBytes=$maxBatchBytes, policy=$policy, " +
            "retryPolicy=$retryPolicy, maxRejections=$maxRejections, uploadTimeout=$uploadTimeout)"

    /** Builds a [SyncConfig] from Java. Every setter has the Kotlin constructor's default. */
    public class Builder internal constructor(from: SyncConfig) {
        private var maxBatchEvents = from.maxBatchEvents
        private var maxBatchBytes = from.maxBatchBytes
        private var eventSize = from.eventSize
        private var policy = from.policy
        private var retryPolicy = from.retryPolicy
        private var maxRejections = from.maxRejections
        private var uploadTimeout = from.uploadTimeout
        private var random = from.random

        /** Sets [SyncConfig.maxBatchEvents]. */
        public fun maxBatchEvents(value: Int): Builder = apply { maxBatchEvents = value }

        /** Sets [SyncConfig.maxBatchBytes]. */
        public fun maxBatchBytes(value: Int): Builder = apply { maxBatchBytes = value }

        /** Sets [SyncConfig.eventSize]. */
        public fun eventSize(value: EventSizer): Builder = apply { eventSize = value }

        /** Sets [SyncConfig.policy]. */
        public fun policy(value: FlushPolicy): Builder = apply { policy = value }

        /** Sets [SyncConfig.retryPolicy]. */
        public fun retryPolicy(value: RetryPolicy): Builder = apply { retryPolicy = value }

        /** Sets [SyncConfig.maxRejections]. */
        public fun maxRejections(value: Int): Builder = apply { maxRejections = value }

        /** Sets [SyncConfig.uploadTimeout]. */
        public fun uploadTimeout(value: java.time.Duration): Builder = apply { uploadTimeout = value.toKotlinDuration() }

        /** Seeds [SyncConfig.random]. */
        public fun seed(value: Long): Builder = apply { random = Random(value) }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException if a limit is not positive or maxRejections is negative.
         */
        public fun build(): SyncConfig =
            SyncConfig(maxBatchEvents, maxBatchBytes, eventSize, policy, retryPolicy, maxRejections, uploadTimeout, random)
    }

    /** Factories for Java callers. */
    public companion object {
        /** A builder with every default. */
        @JvmStatic
        public fun builder(): Builder = Builder(SyncConfig())
    }
}
