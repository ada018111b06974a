package dev.spool.queue

import dev.spool.storage.Durability
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toKotlinDuration

/**
 * How an [OfflineQueue] behaves. Kotlin callers use named arguments; Java callers use
 * [QueueConfig.builder].
 *
 * @property maxQueueSize the cap for [OfflineQueue.queueEvent]: at this size the oldest rows are
 *   evicted to make room.
 * @property strictCap the default cap for [OfflineQueue.append], which throws instead of evicting.
 * @property maxPayloadBytes the largest payload accepted, in UTF-8 bytes.
 * @property durability how hard each commit works to reach the disk.
 * @property maxBatchSize how many waiting writes the writer may group into one transaction.
 * @property writeBufferCapacity how many writes may wait for the writer before callers suspend
 *   (or block, in the Java facades). This backpressure is deliberate.
 * @property busyTimeout how long a write waits for another connection's lock on the same file.
 * @property name a short name for logs and thread names.
 * @property readDispatcher where reads run their blocking JDBC calls.
 * @property writerDispatcher where the single writer runs; null (the default) gives the queue a
 *   dedicated daemon thread, stopped by [OfflineQueue.close].
 * @property walSizeLimitBytes the automatic checkpoint's bound: when a commit leaves the WAL file
 *   larger than this, the writer runs a TRUNCATE checkpoint (see [Maintenance.checkpoint][dev.spool.maintenance.Maintenance.checkpoint]),
 *   waiting up to 250 ms for readers, so the WAL stays within this bound plus a group or two of
 *   writes under a steady load, even while readers overlap without pause. A checkpoint that
 *   cannot finish is logged (`queue.checkpoint_failed`) and retried after another eighth of the
 *   bound. 0 turns this hard bound off. Either way SQLite's own inline auto-checkpoint is off
 *   (`wal_autocheckpoint = 0`): a background thread with its own connection runs a PASSIVE
 *   checkpoint after commits (at most one per 50 ms), so commits never pay for one. With 0, a
 *   reader that never pauses can therefore keep the WAL growing.
 * @property checkIntegrityOnOpen run `PRAGMA integrity_check` when opening, and refuse a file that
 *   fails it. Reads the whole file: off by default.
 * @throws IllegalArgumentException if a size or count is not positive.
 */
public class QueueConfig(
    public val maxQueueSize: Int = 100_000,
    public val strictCap: Int = 10_000,
    public val maxPayloadBytes: Int = 1_048_576,
    public val durability: Durability = Durability.NORMAL,
    public val maxBatchSize: Int = 512,
    public val writeBufferCapacity: Int = 4096,
    public val busyTimeout: Duration = 5.seconds,
    public val name: String = "spool",
    public val readDispatcher: CoroutineDispatcher = Dispatchers.IO,
    public val writerDispatcher: CoroutineDispatcher? = null,
    public val walSizeLimitBytes: Long = 64L * 1024 * 1024,
    public val checkIntegrityOnOpen: Boolean = false,
) {
    init {
        require(maxQueueSize >= 1) { "maxQueueSize must be at least 1, was $maxQueueSize" }
        require(strictCap >= 1) { "strictCap must be at least 1, was $strictCap" }
        require(maxPayloadBytes >= 1) { "maxPayloadBytes must be at least 1, was $maxPayloadBytes" }
        require(maxBatchSize >= 1) { "maxBatchSize must be at least 1, was $maxBatchSize" }
        require(writeBufferCapacity >= 1) { "writeBufferCapacity must be at least 1, was $writeBufferCapacity" }
        require(!busyTimeout.isNegative()) { "busyTimeout must not be negative, was $busyTimeout" }
        require(name.isNotBlank()) { "name must not be blank" }
        require(walSizeLimitBytes >= 0) { "walSizeLimitBytes must not be negative, was $walSizeLimitBytes" }
    }

    /** A builder pre-filled with this configuration. */
    public fun newBuilder(): Builder = Builder(this)

    override fun toString(): String =
        "QueueConfig(name=$name, maxQueueSize=$maxQueueSize, strictCap=$strictCap, " +
            "maxPayloadBytes=$maxPayloadBytes, durability=$durability, maxBatchSize=$maxBatchSize, " +
            "writeBufferCapacity=$writeBufferCapacity, busyTimeout=$busyTimeout, " +
            "walSizeLimitBytes=$walSizeLimitBytes, checkIntegrityOnOpen=$checkIntegrityOnOpen)"

    /** Builds a [QueueConfig] from Java. Every setter has the Kotlin constructor's default. */
    public class Builder internal constructor(from: QueueConfig) {
        private var maxQueueSize = from.maxQueueSize
        private var strictCap = from.strictCap
        private var maxPayloadBytes = from.maxPayloadBytes
        private var durability = from.durability
        private var maxBatchSize = from.maxBatchSize
        private var writeBufferCapacity = from.writeBufferCapacity
        private var busyTimeout = from.busyTimeout
        private var name = from.name
        private var readDispatcher = from.readDispatcher
        private var writerDispatcher = from.writerDispatcher
        private var walSizeLimitBytes = from.walSizeLimitBytes
        private var checkIntegrityOnOpen = from.checkIntegrityOnOpen

        /** Sets [QueueConfig.maxQueueSize]. */
        public fun maxQueueSize(value: Int): Builder = apply { maxQueueSize = value }

        /** Sets [QueueConfig.strictCap]. */
        public fun strictCap(value: Int): Builder = apply { strictCap = value }

        /** Sets [QueueConfig.maxPayloadBytes]. */
        public fun maxPayloadBytes(value: Int): Builder = apply { maxPayloadBytes = value }

        /** Sets [QueueConfig.durability]. */
        public fun durability(value: Durability): Builder = apply { durability = value }

        /** Sets [QueueConfig.maxBatchSize]. */
        public fun maxBatchSize(value: Int): Builder = apply { maxBatchSize = value }

        /** Sets [QueueConfig.writeBufferCapacity]. */
        public fun writeBufferCapacity(value: Int): Builder = apply { writeBufferCapacity = value }

        /** Sets [QueueConfig.busyTimeout]. */
        public fun busyTimeout(value: java.time.Duration): Builder = apply { busyTimeout = value.toKotlinDuration() }

        /** Sets [QueueConfig.name]. */
        public fun name(value: String): Builder = apply { name = value }

        /** Sets [QueueConfig.readDispatcher]. */
        public fun readDispatcher(value: CoroutineDispatcher): Builder = apply { readDispatcher = value }

        /** Sets [QueueConfig.writerDispatcher]; null gives the queue its own thread. */
        public fun writerDispatcher(value: CoroutineDispatcher?): Builder = apply { writerDispatcher = value }

        /** Sets [QueueConfig.walSizeLimitBytes]; 0 turns the hard bound off (background checkpoints go on). */
        public fun walSizeLimitBytes(value: Long): Builder = apply { walSizeLimitBytes = value }

        /** Sets [QueueConfig.checkIntegrityOnOpen]. */
        public fun checkIntegrityOnOpen(value: Boolean): Builder = apply { checkIntegrityOnOpen = value }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException if a size or count is not positive.
         */
        public fun build(): QueueConfig = QueueConfig(
            maxQueueSize = maxQueueSize,
            strictCap = strictCap,
            maxPayloadBytes = maxPayloadBytes,
            durability = durability,
            maxBatchSize = maxBatchSize,
            writeBufferCapacity = writeBufferCapacity,
            busyTimeout = busyTimeout,
            name = name,
            readDispatcher = readDispatcher,
            writerDispatcher = writerDispatcher,
            walSizeLimitBytes = walSizeLimitBytes,
            checkIntegrityOnOpen = checkIntegrityOnOpen,
        )
    }

    /** Factories for Java callers. */
    public companion object {
        /** A builder with every default. */
        @JvmStatic
        public fun builder(): Builder = Builder(QueueConfig())
    }
}
