package dev.spool.sync

import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.emptyFlow
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOf
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.merge
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toKotlinDuration

/**
 * When an [OfflineSync] starts a flush: an upload of batch after batch until nothing is pending.
 *
 * A policy turns a [FlushContext] into a flow of triggers; every emission asks for a flush. The
 * sync collects [triggers] once, in its own scope, for as long as it runs, so a policy can keep
 * state in the flow and wait with [delay] (which a test's virtual time drives). Triggers that
 * arrive while a flush runs are merged into one follow-up flush; triggers during a backoff are
 * merged into the retry that ends it. [OfflineSync.flushNow] works whatever the policy.
 *
 * Built-ins, combined with [anyOf] or `+`: [count], [interval], [onStart],
 * [onConnectivityRegained], and [onDemand] (only [OfflineSync.flushNow]). Write your own as a
 * lambda:
 * ```
 * val onCharging = FlushPolicy { charging.filter { it }.map { } }
 * ```
 *
 * **Not** a retry policy: after a failed upload the sync retries on its own, after the backoff
 * of [SyncConfig.retryPolicy] or the server's `Retry-After`.
 */
public fun interface FlushPolicy {
    /**
     * The triggers of this policy for one sync. Collected once per [OfflineSync.start]; it may
     * run forever, and is cancelled when the sync stops.
     */
    public fun triggers(context: FlushContext): Flow<Unit>

    /** A policy that triggers whenever this one or [other] does. */
    public operator fun plus(other: FlushPolicy): FlushPolicy = anyOf(this, other)

    /** The built-in policies. */
    public companion object {
        /**
         * Triggers whenever the number of pending events changes to [threshold] or more: the
         * analytics-style "flush every N events".
         *
         * @throws IllegalArgumentException if [threshold] is not positive.
         */
        @JvmStatic
        public fun count(threshold: Int): FlushPolicy {
            require(threshold >= 1) { "threshold must be at least 1, was $threshold" }
            return named("count($threshold)") { context -> context.pending.filter { it >= threshold }.map { } }
        }

        /**
         * Triggers every [period], first one [period] after the sync starts.
         *
         * @throws IllegalArgumentException if [period] is not positive.
         */
        @JvmStatic
        public fun interval(period: Duration): FlushPolicy {
            require(period.isPositive()) { "period must be positive, was $period" }
            return named("interval($period)") {
                flow {
                    while (true) {
                        delay(period)
                        emit(Unit)
                    }
                }
            }
        }

        /**
         * [interval] with a [java.time.Duration], for Java callers.
         *
         * @throws IllegalArgumentException if [period] is not positive.
         */
        @JvmStatic
        public fun interval(period: java.time.Duration): FlushPolicy = interval(period.toKotlinDuration())

        /** Triggers once, when the sync starts: uploads what an earlier run left in the queue. */
        @JvmStatic
        public fun onStart(): FlushPolicy = named("onStart") { flowOf(Unit) }

        /**
         * Triggers each time [FlushContext.online] turns from false to true (not for the state
         * the sync starts in).
         */
        @JvmStatic
        public fun onConnectivityRegained(): FlushPolicy = named("onConnectivityRegained") { context ->
            flow {
                var wasOnline = context.online.value
                context.online.collect { online ->
                    if (online && !wasOnline) emit(Unit)
                    wasOnline = online
                }
            }
        }

        /** Never triggers: uploads happen only on [OfflineSync.flushNow]. */
        @JvmStatic
        public fun onDemand(): FlushPolicy = named("onDemand") { emptyFlow() }

        /** Triggers whenever any of [policies] does. */
        @JvmStatic
        public fun anyOf(vararg policies: FlushPolicy): FlushPolicy {
            val all = policies.toList()
            return named(all.joinToString(" + ")) { context -> merge(*all.map { it.triggers(context) }.toTypedArray()) }
        }

        /**
         * The default: [onStart] + [count] (20) + [interval] (30 seconds) +
         * [onConnectivityRegained].
         */
        @JvmField
        public val DEFAULT: FlushPolicy = anyOf(onStart(), count(20), interval(30.seconds), onConnectivityRegained())

        private fun named(name: String, triggers: (FlushContext) -> Flow<Unit>): FlushPolicy = object : FlushPolicy {
            override fun triggers(context: FlushContext): Flow<Unit> = triggers(context)

            override fun toString(): String = name
        }
    }
}
