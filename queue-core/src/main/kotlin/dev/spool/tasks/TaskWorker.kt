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
 * - **Leases.** Every [TaskWorkerConfig.heartbeatInterval] (or a third of the queue's
 *   [TaskQueueConfig.staleWorkerTimeout], if shorter) it calls [TaskQueue.heartbeat]; a task
 *   the queue says it no longer holds (cancelled, reclaimed) has its handler cancelled. A task
 *   cancelled through the same queue object is noticed at once through [TaskQueue.transitions].
 *   Every [TaskWorkerConfig.sweepInterval] it calls [TaskQueue.sweep].
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

    /** This worker's id in the queue's registry. */
    public val workerId: String get() = config.workerId

    private val scope = CoroutineScope(SupervisorJob() + config.dispatcher + CoroutineName("spool-worker-$workerId"))
    private val inFlight = ConcurrentHashMap<TaskId, Job>()
    private val lost = ConcurrentHashMap.newKeySet<TaskId>()
    private val wake = Channel<Unit>(Channel.CONFLATED)
    private val started = AtomicBoolean(false)
    private val stopped = AtomicBoolean(false)
    private var loops: List<Job> = emptyList()
    private var claimLoop: Job? = null

    /** How many handlers are running now. */
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
                when {
                    change.to == TaskState.QUEUED -> wake.trySend(Unit)
                    change.to == TaskState.CANCELLED -> inFlight[change.taskId]?.let { loseLease(change.taskId, it) }
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
        // Only tasks claimed before this heartbeat was sent can be judged by its answer.
        val before = inFlight.keys.toSet()
        val held = queue.heartbeat(workerId)
        for (id in before) {
            if (id !in held) inFlight[id]?.let { loseLease(id, it) }
        }
    }

    private fun loseLease(id: TaskId, job: Job) {
        lost += id
        job.cancel(CancellationException("task ${id.value} is no longer leased to $workerId"))
    }

    private suspend fun claimLoop() {
        while (!stopped.get()) {
            val free = concurrency - inFlight.size
            if (free > 0) {
                val claimed = try {
                    queue.claim(workerId, capabilities, free, config.leaseTtl, config.strategy, handlers.keys)
                } catch (e: CancellationException) {
                    throw e
                } catch (e: Exception) {
                    logger.warn("TaskWorker {}: claim failed; will retry", workerId, e)
                    emptyList()
                }
                claimed.forEach(::launchHandler)
                if (claimed.size == free) continue
            }
            withTimeoutOrNull(config.pollInterval) { wake.receive() }
        }
    }

    private fun launchHandler(task: Task) {
        val job = scope.launch(start = CoroutineStart.LAZY) { run(task) }
        inFlight[task.id] = job
        job.invokeOnCompletion {
            inFlight.remove(task.id)
            lost.remove(task.id)
            wake.trySend(Unit)
        }
        job.start()
    }

    private suspend fun run(task: Task) {
        val handler = handlers.getValue(task.type)
        val failure: Throwable? = try {
            if (limiter == null) handler.handle(task) else limiter.withPermit(limitKey(task)) { handler.handle(task) }
            null
        } catch (e: CancellationException) {
            if (task.id !in lost) {
                // Stopped past the grace period: hand the task back without counting the attempt.
                withContext(NonCancellable) { ack(task) { queue.release(task.id, workerId) } }
            }
            throw e
        } catch (t: Throwable) {
            t
        }
        withContext(NonCancellable) {
            ack(task) {
                when (failure) {
                    null -> queue.complete(task.id, workerId)
                    else -> queue.fail(task.id, workerId, failure.stackTraceToString(), retryable = failure !is PermanentTaskFailure)
                }
            }
        }
    }

    private suspend fun ack(task: Task, call: suspend () -> AckResult) {
        val result = try {
            call()
        } catch (e: Exception) {
            logger.warn("TaskWorker {}: ack of task {} failed; its lease will expire", workerId, task.id.value, e)
            return
        }
        if (!result.applied) logger.info("TaskWorker {}: ack of task {} refused: {}", workerId, task.id.value, result)
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
            while (inFlight.isNotEmpty()) inFlight.values.toList().joinAll()
        }
        inFlight.values.toList().forEach { it.cancel(CancellationException("TaskWorker $workerId stopped")) }
        inFlight.values.toList().joinAll()
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
    }
}
