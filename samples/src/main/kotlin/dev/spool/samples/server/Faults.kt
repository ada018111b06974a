package dev.spool.samples.server

import kotlin.random.Random
import kotlin.time.Duration

/**
 * The fault switches of an [IngestionServer], for the demo and the tests.
 *
 * Set them from code, or over HTTP with `POST /api/v1/faults?…` (see [ingestion]):
 * - `errorRate` (0.0 to 1.0): the chance that each event is answered `error` instead of stored.
 * - `failStatus` and `failCount`: answer the next `failCount` batch requests with `failStatus`
 *   (for example 500 or 401) without reading them.
 * - `latencyMs`: a pause after the batch is stored and before it is answered, so a connection
 *   cut meanwhile loses the answer but not the events: the client retries and gets `duplicate`.
 * - `rejectType`: an event type that is always answered `error`, to make poisoned events.
 * - `offlineMs`: stop accepting connections for that long (handled by [IngestionServer]).
 *
 * Going offline is [IngestionServer.goOffline] rather than a switch here, because it closes the
 * listening socket.
 *
 * **Threading.** Every member is safe to use from any thread; request handlers read the switches
 * concurrently.
 *
 * @param random the source of per-event errors; seed it for reproducible runs.
 */
public class Faults(private val random: Random = Random.Default) {
    /** The chance, from 0.0 to 1.0, that an event is answered `error`. */
    @Volatile
    public var errorRate: Double = 0.0
        set(value) {
            require(value in 0.0..1.0) { "errorRate must be between 0.0 and 1.0, was $value" }
            field = value
        }

    /** The pause before each batch is answered. */
    @Volatile
    public var latency: Duration = Duration.ZERO
        set(value) {
            require(!value.isNegative()) { "latency must not be negative, was $value" }
            field = value
        }

    /** An event type the server always refuses, or null. */
    @Volatile
    public var rejectedEventType: String? = null

    private var failStatus = 0
    private var failRemaining = 0

    /**
     * Answers the next [count] batch requests with HTTP [status] (such as 500 or 401), replacing
     * any failure still pending.
     *
     * @throws IllegalArgumentException if [status] is not an HTTP error status (400 to 599) or
     *   [count] is negative.
     */
    @Synchronized
    public fun failNext(status: Int, count: Int) {
        require(status in 400..599) { "status must be an HTTP error status, was $status" }
        require(count >= 0) { "count must not be negative, was $count" }
        failStatus = status
        failRemaining = count
    }

    /** How many batch requests are still to be failed. */
    public val pendingFailures: Int
        @Synchronized get() = failRemaining

    /** Turns every switch off. */
    @Synchronized
    public fun reset() {
        errorRate = 0.0
        latency = Duration.ZERO
        rejectedEventType = null
        failRemaining = 0
    }

    /** The status to fail this request with, consuming one pending failure, or null. */
    @Synchronized
    internal fun takeFailure(): Int? {
        if (failRemaining == 0) return null
        failRemaining--
        return failStatus
    }

    /** Whether to answer this event `error`. */
    internal fun shouldReject(eventType: String): Boolean {
        if (eventType == rejectedEventType) return true
        val rate = errorRate
        return rate > 0.0 && synchronized(random) { random.nextDouble() } < rate
    }

    override fun toString(): String =
        "Faults(errorRate=$errorRate, latency=$latency, rejectedEventType=$rejectedEventType, " +
            "pendingFailures=$pendingFailures)"
}
