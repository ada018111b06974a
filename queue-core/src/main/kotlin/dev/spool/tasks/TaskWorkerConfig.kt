package dev.spool.tasks

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import java.util.UUID
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toKotlinDuration

/**
 * How a [TaskWorker] claims, heartbeats and sweeps.
 *
 * @property workerId this worker's id in the registry; unique per running worker.
 * @property leaseTtl how long each claim's lease lasts; heartbeats extend it by as much.
 * @property heartbeatInterval how often the worker heartbeats; null means a third of [leaseTtl].
 * @property pollInterval how long the worker waits before claiming again when it found no work
 *   (it wakes sooner when a slot frees or a task is enqueued through the same queue object).
 * @property sweepInterval how often the worker runs [TaskQueue.sweep].
 * @property strategy how the worker picks among eligible tasks.
 * @property stopGracePeriod how long [TaskWorker.stop] lets running handlers finish before it
 *   cancels them and releases their tasks.
 * @property dispatcher where the worker's loops and handlers run.
 * Kotlin callers use named arguments; Java callers use [TaskWorkerConfig.builder].
 *
 * @throws IllegalArgumentException if [workerId] is blank or a duration is not positive, or
 *   [heartbeatInterval] is not shorter than [leaseTtl].
 */
public class TaskWorkerConfig(
    public val workerId: String = "worker-${UUID.randomUUID()}",
    public val leaseTtl: Duration = 30.seconds,
    heartbeatInterval: Duration? = null,
    public val pollInterval: Duration = 1.seconds,
    public val sweepInterval: Duration = 15.seconds,
    public val strategy: ClaimStrategy = ClaimStrategy.PRIORITY,
    public val stopGracePeriod: Duration = 30.seconds,
    public val dispatcher: CoroutineDispatcher = Dispatchers.Default,
) {
    /** How often the worker heartbeats. */
    public val heartbeatInterval: Duration = heartbeatInterval ?: (leaseTtl / 3)

    init {
        require(workerId.isNotBlank()) { "workerId must not be blank" }
        require(leaseTtl.isPositive()) { "leaseTtl must be positive, was $leaseTtl" }
        require(this.heartbeatInterval.isPositive() && this.heartbeatInterval < leaseTtl) {
            "heartbeatInterval must be positive and shorter than leaseTtl ($leaseTtl), was ${this.heartbeatInterval}"
        }
        require(pollInterval.isPositive()) { "pollInterval must be positive, was $pollInterval" }
        require(sweepInterval.isPositive()) { "sweepInterval must be positive, was $sweepInterval" }
        require(!stopGracePeriod.isNegative()) { "stopGracePeriod must not be negative, was $stopGracePeriod" }
    }

    override fun toString(): String =
        "TaskWorkerConfig(workerId=$workerId, leaseTtl=$leaseTtl, heartbeatInterval=$heartbeatInterval, " +
            "pollInterval=$pollInterval, sweepInterval=$sweepInterval, strategy=$strategy, stopGracePeriod=$stopGracePeriod)"

    /** Builds a [TaskWorkerConfig] from Java. Every setter has the Kotlin constructor's default. */
    public class Builder internal constructor() {
        private val defaults = TaskWorkerConfig(workerId = "defaults")
        private var workerId: String? = null
        private var leaseTtl = defaults.leaseTtl
        private var heartbeatInterval: Duration? = null
        private var pollInterval = defaults.pollInterval
        private var sweepInterval = defaults.sweepInterval
        private var strategy = defaults.strategy
        private var stopGracePeriod = defaults.stopGracePeriod
        private var dispatcher = defaults.dispatcher

        /** Sets [TaskWorkerConfig.workerId]; a random id by default. */
        public fun workerId(value: String): Builder = apply { workerId = value }

        /** Sets [TaskWorkerConfig.leaseTtl]. */
        public fun leaseTtl(value: java.time.Duration): Builder = apply { leaseTtl = value.toKotlinDuration() }

        /** Sets [TaskWorkerConfig.heartbeatInterval]; a third of the lease TTL by default. */
        public fun heartbeatInterval(value: java.time.Duration): Builder = apply { heartbeatInterval = value.toKotlinDuration() }

        /** Sets [TaskWorkerConfig.pollInterval]. */
        public fun pollInterval(value: java.time.Duration): Builder = apply { pollInterval = value.toKotlinDuration() }

        /** Sets [TaskWorkerConfig.sweepInterval]. */
        public fun sweepInterval(value: java.time.Duration): Builder = apply { sweepInterval = value.toKotlinDuration() }

        /** Sets [TaskWorkerConfig.strategy]. */
        public fun strategy(value: ClaimStrategy): Builder = apply { strategy = value }

        /** Sets [TaskWorkerConfig.stopGracePeriod]. */
        public fun stopGracePeriod(value: java.time.Duration): Builder = apply { stopGracePeriod = value.toKotlinDuration() }

        /** Sets [TaskWorkerConfig.dispatcher]. */
        public fun dispatcher(value: CoroutineDispatcher): Builder = apply { dispatcher = value }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException as the [TaskWorkerConfig] constructor does.
         */
        public fun build(): TaskWorkerConfig = TaskWorkerConfig(
            workerId = workerId ?: "worker-${UUID.randomUUID()}",
            leaseTtl = leaseTtl,
            heartbeatInterval = heartbeatInterval,
            pollInterval = pollInterval,
            sweepInterval = sweepInterval,
            strategy = strategy,
            stopGracePeriod = stopGracePeriod,
            dispatcher = dispatcher,
        )
    }

    /** Factories for Java callers. */
    public companion object {
        /** A builder with every default. */
        @JvmStatic
        public fun builder(): Builder = Builder()
    }
}
