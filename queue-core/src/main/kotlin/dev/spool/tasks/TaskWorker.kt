package dev.spool.tasks

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Runs tasks from a [TaskQueue]: claims them in batches up to its free slots, runs the handler of
 * each task's type as a coroutine, heartbeats its leases, sweeps expired leases, and acks.
 *
 * - **Claiming.** With `n` of [concurrency] slots free it claims up to `n` tasks in one call,
 *   only of the types in [handlers] and only those whose `requires` ⊆ [capabilities]. A task type
 *   with no handler is therefore never claimed by this worker: it stays queued for another worker,
 *   with no attempt counted. With no work it waits [TaskWorkerConfig.pollInterval], or less when
 *   a slot frees or a task is enqueued through the same queue object.
 * - **Running.** A handler that returns completes its task; one that throws fails it (retried
 *   with backoff, or dead-lettered for a [PermanentTaskFailure] or on the last attempt). With a
 *   [limiter], each handler runs holding a permit of `limitKey(task)`, so for example downloads
 *   per host stay bounded; the task keeps its lease (heartbeated) while it waits for the permit.
 * - **Leases.** Every task is run under its own [TaskLease], and everything the worker tracks is
 *   keyed by that lease, never by task id. Every [TaskWorkerConfig.heartbeatInterval] (or a third
 *   of the queue's [TaskQueueConfig.staleWorkerTimeout], if shorter) it calls
 *   [TaskQueue.heartbeat] with the leases of the handlers still running, and only those: a lease
 *   the queue says it no longer holds (cancelled, expired, reclaimed), or whose known expiry has
 *   passed while heartbeats were failing, has its handler cancelled. A task cancelled through the same
 *   queue object is noticed at once through [TaskQueue.transitions]. If this worker claims a task
 *   again while an earlier attempt's handler is still stopping, the new handler starts only once
 *   the earlier one has stopped: one task's handlers never overlap in one worker. Every
 *   [TaskWorkerConfig.sweepInterval] it calls [TaskQueue.sweep].
 * - **Acknowledging.** A failed ack (say the file was locked or full) is retried with backoff
 *   while the lease is surely valid. The lease of a finished handler is no longer extended, so
 *   if the ack cannot be recorded the lease expires and the sweep retries the task: it is never
 *   stranded as leased.
 * - **Stopping.** [stop] stops claiming, lets running handlers finish for
 *   [TaskWorkerConfig.stopGracePeriod], then cancels the rest and releases their tasks (attempt
 *   not counted), and leaves the worker registry.
 *
 * **Threading.** Handlers run on [TaskWorkerConfig.dispatcher]. [start] and [stop] may be called
 * from any thread. A worker is started once; stopping twice is harmless.
 *
 * Not a supervisor of processes: if the process dies, its leases expire and another worker's
 * sweep requeues the tasks.
 *
 * @param queue the queue to work; not closed by the worker.
 * @param handlers a handler per task type; not empty.
 * @param concurrency how many handlers may run at once, at least 1.
 * @param capabilities what this worker can do, matched against each task's `requires`.
 * @param limiter optional per-key concurrency bound shared with other workers in this process.
 * @param limitKey the [limiter] key of a task; its type by default.
 * @property config how this worker claims, heartbeats and sweeps: its id, lease, intervals and strategy.
 * @throws IllegalArgumentException if [handlers] is empty or [concurrency] is below 1.
 */
public class TaskWorker @JvmOverloads constructor(
    private val queue: TaskQueue,
    handlers: Map<String, TaskHandler>,
    public val concurrency: Int = 4,
    public val capabilities: Set<String> = emptySet(),
    private val limiter: KeyedLimiter? = null,
    public val config: TaskWorkerConfig = TaskWorkerConfig(),
    private val limitKey: (Task) -> String = { it.type },
) : AutoCloseable {
    private val handlers: Map<String, TaskHandler> = handlers.toMap()

    init {
        require(this.handlers.isNotEmpty()) { "handlers must not be empty" }
        require(concurrency >= 1) { "concurrency must be at least 1, was $concurrency" }
    }

    /** This worker's id in the registry. */
    public val workerId: String get() = config.workerId

    private val scope = CoroutineScope(SupervisorJob() + config.dispatcher + CoroutineName("spool-worker-$workerId"))
    private val clock = queue.config.clock
    private val ttlMs = config.leaseTtl.inWholeMilliseconds

    /** One claimed task: its lease, its handler's job, and until when the lease is surely valid. */
    private class Attempt(val task: Task, val lease: TaskLease, @Volatile var validUntil: Long) {
        lateinit var job: Job

        /** True while the handler runs: only then is the lease extended by heartbeats. */
        @Volatile var handling = true

        /** Set when the lease is known lost: the handler is cancelled and nothing is acked. */
        @Volatile var lost = false
    }

    private val inFlight = ConcurrentHashMap<TaskLease, Attempt>()
    private val wake = Channel<Unit>(Channel.CONFLATED)
    private val started = AtomicBoolean(false)
    private val stopped = AtomicBoolean(false)
    private var loops: List<Job> = emptyList()
    private var claimLoop: Job? = null

    /**
     * How many claimed tasks this worker holds now: handlers running (or waiting for an earlier
     * attempt of the same task to stop), or finished and still recording their outcome. Exact:
     * each claim adds one, and only that claim's own completion removes it.
     */
    public val running: Int get() = inFlight.size

    /**
     * Starts claiming and running tasks in the background and returns at once.
     *
     * @throws IllegalStateException if the worker was already started.
     */
    public fun start(): TaskWorker {
        check(started.compareAndSet(false, true)) { "TaskWorker $workerId was already started" }
        val watcher = scope.launch(start = CoroutineStart.UNDISPATCHED) {
            queue.transitions.collect { change ->
                when (change.to) {
                    TaskState.QUEUED -> wake.trySend(Unit)
                    TaskState.CANCELLED ->
                        inFlight.values.filter { it.task.id == change.taskId }.forEach { loseLease(it, "cancelled") }
                    else -> Unit
                }
            }
        }
        // Heartbeat often enough for both the leases and the queue's stale-worker timeout.
        val interval = minOf(config.heartbeatInterval, queue.config.staleWorkerTimeout / 3)
        val heartbeat = scope.launch { every(interval) { heartbeat() } }
        val sweep = scope.launch { every(config.sweepInterval) { queue.sweep() } }
        claimLoop = scope.launch { claimLoop() }
        loops = listOf(watcher, heartbeat, sweep)
        return this
    }

    private suspend fun every(interval: kotlin.time.Duration, action: suspend () -> Unit) {
        while (scope.isActive) {
            delay(interval)
            try {
                action()
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                logger.warn("TaskWorker {}: background call failed; will retry", workerId, e)
            }
        }
    }

    private suspend fun heartbeat() {
        // Only the leases of handlers still running are extended; a finished one whose ack could
        // not be recorded is left to expire, so the sweep retries its task.
        val extending = inFlight.values.filter { it.handling && !it.lost }
        val sentAt = clock.millis()
        val held = try {
            queue.heartbeat(workerId, extending.map { it.lease })
        } catch (e: Exception) {
            // The queue cannot be reached: a lease past the time it is surely valid may already
            // be another worker's, so its handler stops rather than overlap with the next attempt.
            val now = clock.millis()
            extending.filter { now >= it.validUntil }.forEach { loseLease(it, "expired while heartbeats failed") }
            throw e
        }
        for (attempt in extending) {
            if (attempt.lease in held) {
                // The queue never shortens a lease, so it lasts at least this long.
                attempt.validUntil = maxOf(attempt.validUntil, sentAt + ttlMs)
            } else {
                loseLease(attempt, "no longer held")
            }
        }
    }

    private fun loseLease(attempt: Attempt, why: String) {
        attempt.lost = true
        attempt.job.cancel(CancellationException("task ${attempt.task.id.value} is no longer leased to $workerId ($why)"))
    }

    private suspend fun claimLoop() {
        while (!stopped.get()) {
            val free = concurrency - inFlight.size
            if (free > 0) {
                val claimedAt = clock.millis()
                val claimed = try {
                    queue.claim(workerId, capabilities, free, config.leaseTtl, config.strategy, handlers.keys)
                } catch (e: CancellationException) {
                    throw e
                } catch (e: Exception) {
                    logger.warn("TaskWorker {}: claim failed; will retry", workerId, e)
                    emptyList()
                }
                claimed.forEach { launchHandler(it, claimedAt + ttlMs) }
                if (claimed.size == free) continue
            }
            withTimeoutOrNull(config.pollInterval) { wake.receive() }
        }
    }

    private fun launchHandler(task: Task, validUntil: Long) {
        val lease = checkNotNull(task.lease) { "claimed task ${task.id.value} has no lease" }
        // The same task claimed again (its earlier lease expired and was swept): the earlier
        // attempt's handler is stopped, and the new one starts only once it has, so one task's
        // handlers never overlap in this worker.
        val earlier = inFlight.values.filter { it.task.id == task.id }
        earlier.forEach { loseLease(it, "claimed again") }
        val attempt = Attempt(task, lease, validUntil)
        attempt.job = scope.launch(start = CoroutineStart.LAZY) {
            earlier.forEach { it.job.join() }
            run(attempt)
        }
        inFlight[lease] = attempt
        attempt.job.invokeOnCompletion {
            inFlight.remove(lease)
            wake.trySend(Unit)
        }
        attempt.job.start()
    }

    private suspend fun run(attempt: Attempt) {
        val task = attempt.task
        val handler = handlers.getValue(task.type)
        val failure: Throwable? = try {
            if (limiter == null) handler.handle(task) else limiter.withPermit(limitKey(task)) { handler.handle(task) }
            null
        } catch (e: CancellationException) {
            attempt.handling = false
            if (!attempt.lost) {
                // Stopped past the grace period: hand the task back without counting the attempt.
                withContext(NonCancellable) { ack(attempt) { queue.release(attempt.lease) } }
            }
            throw e
        } catch (t: Throwable) {
            t
        }
        attempt.handling = false
        if (attempt.lost) return
        withContext(NonCancellable) {
            ack(attempt) {
                when (failure) {
                    null -> queue.complete(attempt.lease)
                    else -> queue.fail(attempt.lease, failure.stackTraceToString(), retryable = failure !is PermanentTaskFailure)
                }
            }
        }
    }

    /**
     * Records an outcome, retrying a failed write with backoff while the lease is surely valid.
     * If it cannot be recorded in time, the lease (no longer heartbeated) expires and the sweep
     * retries the task: it is never stranded.
     */
    private suspend fun ack(attempt: Attempt, call: suspend () -> AckResult) {
        var backoff = ACK_RETRY_FIRST
        while (true) {
            val result = try {
                call()
            } catch (e: Exception) {
                if (attempt.lost || clock.millis() + backoff.inWholeMilliseconds >= attempt.validUntil) {
                    logger.warn(
                        "TaskWorker {}: ack of task {} failed and its lease ends before a retry; the sweep will retry the task",
                        workerId, attempt.task.id.value, e,
                    )
                    return
                }
                logger.info("TaskWorker {}: ack of task {} failed; retrying in {}", workerId, attempt.task.id.value, backoff, e)
                delay(backoff)
                backoff = minOf(backoff * 2, ACK_RETRY_MAX)
                continue
            }
            if (!result.applied) logger.info("TaskWorker {}: ack of task {} refused: {}", workerId, attempt.task.id.value, result)
            return
        }
    }

    /**
     * Stops claiming, waits up to [TaskWorkerConfig.stopGracePeriod] for running handlers, cancels
     * the rest (releasing their tasks), and unregisters the worker. Safe to call twice.
     */
    public suspend fun stop() {
        if (!stopped.compareAndSet(false, true)) return
        wake.trySend(Unit)
        claimLoop?.cancelAndJoin()
        withTimeoutOrNull(config.stopGracePeriod) {
            while (inFlight.isNotEmpty()) inFlight.values.map { it.job }.joinAll()
        }
        inFlight.values.toList().forEach { it.job.cancel(CancellationException("TaskWorker $workerId stopped")) }
        inFlight.values.map { it.job }.joinAll()
        loops.forEach { it.cancelAndJoin() }
        if (started.get()) {
            try {
                queue.unregisterWorker(workerId)
            } catch (e: Exception) {
                logger.warn("TaskWorker {}: could not unregister", workerId, e)
            }
        }
        scope.cancel()
    }

    /** Blocking [stop], for Java callers and `use` blocks. */
    override fun close(): Unit = runBlocking { stop() }

    private companion object {
        private val logger = LoggerFactory.getLogger(TaskWorker::class.java)
        private val ACK_RETRY_FIRST = 100.milliseconds
        private val ACK_RETRY_MAX = 5.seconds
    }
}
