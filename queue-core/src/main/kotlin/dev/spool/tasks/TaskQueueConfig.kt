package dev.spool.tasks

import dev.spool.storage.Durability
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import java.time.Clock
import kotlin.random.Random
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toKotlinDuration

/**
 * How a [TaskQueue] behaves. Kotlin callers use named arguments; Java callers use
 * [TaskQueueConfig.builder].
 *
 * @property retryPolicy the backoff for failed attempts of types without their own policy.
 * @property retryPolicies backoff per task type, overriding [retryPolicy].
 * @property staleWorkerTimeout a worker that has not claimed or heartbeated for this long is
 *   stale: [TaskQueue.sweep] removes it and requeues its tasks even if their leases are valid.
 * @property statsTtl no longer used by either backend: [TaskQueue.stats] reads counts kept up to
 *   date by every write, from any process or host, so it is exact at every call and never
 *   cached. Still validated (not negative) so existing configurations keep working. Deprecated.
 * @property observeInterval how often [TaskQueue.observe] and [TaskQueue.awaitFinal] check the file
 *   for changes made by other connections or processes (one `PRAGMA data_version` per check).
 * @property durability how hard each commit works to reach the disk.
 * @property maxBatchSize how many waiting writes the writer may group into one transaction.
 * @property writeBufferCapacity how many writes may wait for the writer before callers suspend.
 * @property busyTimeout how long a write waits for another process's lock on the same file.
 * @property name a short name for logs and thread names.
 * @property clock the time source for every stored time (leases, backoff, runAfter, logs);
 *   tests inject a controllable one.
 * @property random the source of retry jitter.
 * @property readDispatcher where reads run their blocking JDBC calls.
 * @property writerDispatcher where the single writer runs; null (the default) gives the queue a
 *   dedicated daemon thread, stopped by [TaskQueue.close].
 * @property walSizeLimitBytes the WAL's hard bound, as [dev.spool.queue.QueueConfig.walSizeLimitBytes]:
 *   when a commit leaves the WAL larger, the writer runs a TRUNCATE checkpoint. 0 turns the hard
 *   bound off; the background checkpointer still checkpoints after commits either way.
 * @property checkIntegrityOnOpen run `PRAGMA integrity_check` when opening, and refuse a file that
 *   fails it. Reads the whole file: off by default.
 * @property maxPayloadBytes the largest task payload [TaskQueue.enqueue] accepts, in UTF-8 bytes
 *   (1 MiB by default, as [dev.spool.queue.QueueConfig.maxPayloadBytes]).
 * @throws IllegalArgumentException if a size is not positive, a duration is not positive, or a
 *   type in [retryPolicies] is blank.
 */
public class TaskQueueConfig(
    public val retryPolicy: RetryPolicy = RetryPolicy(),
    public val retryPolicies: Map<String, RetryPolicy> = emptyMap(),
    public val staleWorkerTimeout: Duration = 2.minutes,
    @Deprecated("TaskQueue.stats() reads counts kept by every write and is exact at each call; nothing is cached any more")
    public val statsTtl: Duration = 1.seconds,
    public val observeInterval: Duration = 100.milliseconds,
    public val durability: Durability = Durability.NORMAL,
    public val maxBatchSize: Int = 512,
    public val writeBufferCapacity: Int = 4096,
    public val busyTimeout: Duration = 5.seconds,
    public val name: String = "tasks",
    public val clock: Clock = Clock.systemUTC(),
    public val random: Random = Random.Default,
    public val readDispatcher: CoroutineDispatcher = Dispatchers.IO,
    public val writerDispatcher: CoroutineDispatcher? = null,
    public val walSizeLimitBytes: Long = 64L * 1024 * 1024,
    public val checkIntegrityOnOpen: Boolean = false,
    public val maxPayloadBytes: Int = 1_048_576,
) {
    init {
        require(retryPolicies.keys.none { it.isBlank() }) { "retryPolicies must not have a blank type" }
        require(staleWorkerTimeout.isPositive()) { "staleWorkerTimeout must be positive, was $staleWorkerTimeout" }
        @Suppress("DEPRECATION")
        require(!statsTtl.isNegative()) { "statsTtl must not be negative, was $statsTtl" }
        require(observeInterval.isPositive() && observeInterval.isFinite()) {
            "observeInterval must be positive and finite, was $observeInterval"
        }
        require(maxBatchSize >= 1) { "maxBatchSize must be at least 1, was $maxBatchSize" }
        require(writeBufferCapacity >= 1) { "writeBufferCapacity must be at least 1, was $writeBufferCapacity" }
        require(!busyTimeout.isNegative()) { "busyTimeout must not be negative, was $busyTimeout" }
        require(name.isNotBlank()) { "name must not be blank" }
        require(walSizeLimitBytes >= 0) { "walSizeLimitBytes must not be negative, was $walSizeLimitBytes" }
        require(maxPayloadBytes >= 1) { "maxPayloadBytes must be at least 1, was $maxPayloadBytes" }
    }

    /** The retry policy for tasks of [type]. */
    public fun retryPolicyFor(type: String): RetryPolicy = retryPolicies[type] ?: retryPolicy

    override fun toString(): String =
        "TaskQueueConfig(name=$name, retryPolicy=$retryPolicy, retryPolicies=$retryPolicies, " +
            "staleWorkerTimeout=$staleWorkerTimeout, observeInterval=$observeInterval, " +
            "durability=$durability, maxBatchSize=$maxBatchSize, writeBufferCapacity=$writeBufferCapacity, " +
            "busyTimeout=$busyTimeout, walSizeLimitBytes=$walSizeLimitBytes, checkIntegrityOnOpen=$checkIntegrityOnOpen, " +
            "maxPayloadBytes=$maxPayloadBytes)"

    /** Builds a [TaskQueueConfig] from Java. Every setter has the Kotlin constructor's default. */
    public class Builder internal constructor() {
        private val defaults = TaskQueueConfig()
        private var retryPolicy = defaults.retryPolicy
        private val retryPolicies = LinkedHashMap<String, RetryPolicy>()
        private var staleWorkerTimeout = defaults.staleWorkerTimeout
        @Suppress("DEPRECATION")
        private var statsTtl = defaults.statsTtl
        private var observeInterval = defaults.observeInterval
        private var durability = defaults.durability
        private var maxBatchSize = defaults.maxBatchSize
        private var writeBufferCapacity = defaults.writeBufferCapacity
        private var busyTimeout = defaults.busyTimeout
        private var name = defaults.name
        private var clock = defaults.clock
        private var random = defaults.random
        private var readDispatcher = defaults.readDispatcher
        private var writerDispatcher = defaults.writerDispatcher
        private var walSizeLimitBytes = defaults.walSizeLimitBytes
        private var checkIntegrityOnOpen = defaults.checkIntegrityOnOpen
        private var maxPayloadBytes = defaults.maxPayloadBytes

        /** Sets [TaskQueueConfig.retryPolicy]. */
        public fun retryPolicy(value: RetryPolicy): Builder = apply { retryPolicy = value }

        /** Adds a policy for one task type to [TaskQueueConfig.retryPolicies]. */
        public fun retryPolicy(type: String, value: RetryPolicy): Builder = apply { retryPolicies[type] = value }

        /** Sets [TaskQueueConfig.staleWorkerTimeout]. */
        public fun staleWorkerTimeout(value: java.time.Duration): Builder =
            apply { staleWorkerTimeout = value.toKotlinDuration() }

        /** Sets [TaskQueueConfig.statsTtl], which no task queue uses any more. */
        @Deprecated("TaskQueue.stats() reads counts kept by every write and is exact at each call; nothing is cached any more")
        public fun statsTtl(value: java.time.Duration): Builder = apply { statsTtl = value.toKotlinDuration() }

        /** Sets [TaskQueueConfig.observeInterval]. */
        public fun observeInterval(value: java.time.Duration): Builder = apply { observeInterval = value.toKotlinDuration() }

        /** Sets [TaskQueueConfig.durability]. */
        public fun durability(value: Durability): Builder = apply { durability = value }

        /** Sets [TaskQueueConfig.maxBatchSize]. */
        public fun maxBatchSize(value: Int): Builder = apply { maxBatchSize = value }

        /** Sets [TaskQueueConfig.writeBufferCapacity]. */
        public fun writeBufferCapacity(value: Int): Builder = apply { writeBufferCapacity = value }

        /** Sets [TaskQueueConfig.busyTimeout]. */
        public fun busyTimeout(value: java.time.Duration): Builder = apply { busyTimeout = value.toKotlinDuration() }

        /** Sets [TaskQueueConfig.name]. */
        public fun name(value: String): Builder = apply { name = value }

        /** Sets [TaskQueueConfig.clock]. */
        public fun clock(value: Clock): Builder = apply { clock = value }

        /** Sets [TaskQueueConfig.random]. */
        public fun random(value: Random): Builder = apply { random = value }

        /** Sets [TaskQueueConfig.readDispatcher]. */
        public fun readDispatcher(value: CoroutineDispatcher): Builder = apply { readDispatcher = value }

        /** Sets [TaskQueueConfig.writerDispatcher]; null gives the queue its own thread. */
        public fun writerDispatcher(value: CoroutineDispatcher?): Builder = apply { writerDispatcher = value }
        /** Sets [TaskQueueConfig.walSizeLimitBytes]; 0 turns the hard bound off. */
        public fun walSizeLimitBytes(value: Long): Builder = apply { walSizeLimitBytes = value }

        /** Sets [TaskQueueConfig.checkIntegrityOnOpen]. */
        public fun checkIntegrityOnOpen(value: Boolean): Builder = apply { checkIntegrityOnOpen = value }
        /** Sets [TaskQueueConfig.maxPayloadBytes]. */
        public fun maxPayloadBytes(value: Int): Builder = apply { maxPayloadBytes = value }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException as the [TaskQueueConfig] constructor does.
         */
        @Suppress("DEPRECATION")
        public fun build(): TaskQueueConfig = TaskQueueConfig(
            retryPolicy = retryPolicy,
            retryPolicies = retryPolicies.toMap(),
            staleWorkerTimeout = staleWorkerTimeout,
            statsTtl = statsTtl,
            observeInterval = observeInterval,
            durability = durability,
            maxBatchSize = maxBatchSize,
            writeBufferCapacity = writeBufferCapacity,
            busyTimeout = busyTimeout,
            name = name,
            clock = clock,
            random = random,
            readDispatcher = readDispatcher,
            writerDispatcher = writerDispatcher,
            walSizeLimitBytes = walSizeLimitBytes,
            checkIntegrityOnOpen = checkIntegrityOnOpen,
            maxPayloadBytes = maxPayloadBytes,
        )
    }

    /** Factories for Java callers. */
    public companion object {
        /** A builder with every default. */
        @JvmStatic
        public fun builder(): Builder = Builder()

        internal val MIN_LEASE: Duration = 1.milliseconds
    }
}
