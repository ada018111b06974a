package dev.spool.tasks.micrometer

import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskState
import dev.spool.tasks.TaskStats
import dev.spool.tasks.TaskTransition
import dev.spool.tasks.internal.RealTaskQueue
import dev.spool.tasks.internal.TaskQueueListener
import io.micrometer.core.instrument.Counter
import io.micrometer.core.instrument.Gauge
import io.micrometer.core.instrument.MeterRegistry
import io.micrometer.core.instrument.Tag
import io.micrometer.core.instrument.Tags
import io.micrometer.core.instrument.Timer
import io.micrometer.core.instrument.binder.MeterBinder
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import org.slf4j.LoggerFactory
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * A Micrometer [MeterBinder] for one [TaskQueue]. Every meter carries the tag `queue` with
 * [dev.spool.tasks.TaskQueueConfig.name], plus any [extraTags].
 *
 * | meter                            | type    | tags          | what                                              |
 * |----------------------------------|---------|---------------|---------------------------------------------------|
 * | `spool.tasks.depth`              | gauge   | type, state   | tasks by type and state, from [TaskQueue.stats]   |
 * | `spool.tasks.oldest.queued.age`  | gauge   |               | seconds since the oldest queued task was enqueued |
 * | `spool.tasks.claims`             | counter | type          | tasks claimed                                     |
 * | `spool.tasks.completions`        | counter | type          | tasks completed                                   |
 * | `spool.tasks.failures`           | counter | type          | failed attempts (acked or expired), retried or not |
 * | `spool.tasks.dead.letters`       | counter | type          | tasks dead-lettered                               |
 * | `spool.tasks.lease.losses`       | counter |               | acks refused with `LEASE_LOST`, and leases swept   |
 * | `spool.tasks.claim`              | timer   |               | claim latency, caller's view, to commit           |
 * | `spool.tasks.ack`                | timer   |               | complete/fail/release/renew latency, caller's view |
 *
 * ```
 * TaskQueueMetrics(queue).bindTo(registry)
 * ```
 *
 * Counters and timers count what goes through this queue object (this process), as it commits;
 * the gauges show the whole file, refreshed every [refreshInterval] from [TaskQueue.stats] (one
 * read of the counts the file keeps, O(1) on SQLite). Micrometer is an optional dependency of `queue-core`:
 * add `io.micrometer:micrometer-core` to use this class.
 *
 * **Threading.** [bindTo] and [close] may be called from any thread; counters are recorded on
 * the writer thread after each commit, timers on the caller's thread. [close] stops recording
 * and refreshing; the meters stay registered with their last values.
 *
 * @throws IllegalArgumentException from the constructor if [queue] was not opened by
 *   [TaskQueue.open], or [refreshInterval] is not positive.
 */
public class TaskQueueMetrics @JvmOverloads constructor(
    private val queue: TaskQueue,
    private val extraTags: Iterable<Tag> = emptyList(),
    private val refreshInterval: Duration = 10.seconds,
) : MeterBinder, AutoCloseable {
    private val real = queue as? RealTaskQueue
        ?: throw IllegalArgumentException("queue must be opened by TaskQueue.open, was ${queue::class.java.name}")

    init {
        require(refreshInterval.isPositive()) { "refreshInterval must be positive, was $refreshInterval" }
    }

    private val attached = CopyOnWriteArrayList<TaskQueueListener>()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @Volatile private var latest: TaskStats? = null
    private val depthGauges = ConcurrentHashMap<Pair<String, TaskState>, Unit>()
    private val registries = CopyOnWriteArrayList<Pair<MeterRegistry, Tags>>()

    override fun bindTo(registry: MeterRegistry) {
        val tags = Tags.of("queue", queue.config.name).and(extraTags)
        registries += registry to tags
        synchronized(depthGauges) { depthGauges.keys.forEach { registerDepth(registry, tags, it) } }
        Gauge.builder("spool.tasks.oldest.queued.age", this) { m -> m.latest?.oldestQueuedAge?.inWholeMilliseconds?.div(1000.0) ?: 0.0 }
            .description("Age of the oldest queued task")
            .baseUnit("seconds")
            .tags(tags)
            .register(registry)
        val lost = Counter.builder("spool.tasks.lease.losses")
            .description("Acknowledgements refused with LEASE_LOST, and expired leases swept")
            .tags(tags)
            .register(registry)
        val claimTimer = Timer.builder("spool.tasks.claim").description("Claim latency until committed").tags(tags).register(registry)
        val ackTimer = Timer.builder("spool.tasks.ack").description("Acknowledgement latency until committed").tags(tags).register(registry)
        fun counter(name: String, description: String, type: String): Counter =
            Counter.builder(name).description(description).tags(tags).tag("type", type).register(registry)
        val listener = object : TaskQueueListener {
            override fun committed(transitions: List<TaskTransition>, leaseLosses: Int) {
                for (t in transitions) {
                    when {
                        t.to == TaskState.LEASED -> counter("spool.tasks.claims", "Tasks claimed", t.type).increment()
                        t.to == TaskState.SUCCEEDED -> counter("spool.tasks.completions", "Tasks completed", t.type).increment()
                        t.to == TaskState.DEAD_LETTER -> {
                            counter("spool.tasks.failures", "Failed attempts", t.type).increment()
                            counter("spool.tasks.dead.letters", "Tasks dead-lettered", t.type).increment()
                        }
                        t.from == TaskState.LEASED && t.to == TaskState.QUEUED && t.error != null ->
                            counter("spool.tasks.failures", "Failed attempts", t.type).increment()
                    }
                }
                if (leaseLosses > 0) lost.increment(leaseLosses.toDouble())
            }

            override fun claimTimed(nanos: Long) = claimTimer.record(nanos, TimeUnit.NANOSECONDS)

            override fun ackTimed(nanos: Long) = ackTimer.record(nanos, TimeUnit.NANOSECONDS)
        }
        attached += listener
        real.listeners.add(listener)
        if (registries.size == 1) {
            scope.launch {
                while (isActive) {
                    try {
                        refresh()
                    } catch (e: CancellationException) {
                        throw e
                    } catch (e: Exception) {
                        logger.warn("TaskQueueMetrics {}: could not read stats; gauges keep their last values", queue.config.name, e)
                    }
                    delay(refreshInterval)
                }
            }
        }
    }

    /**
     * Reads [TaskQueue.stats] now and updates the gauges; the binder also does this every
     * [refreshInterval]. Useful right before a scrape in tests.
     *
     * @throws dev.spool.storage.QueueStorageException if the read failed.
     * @throws IllegalStateException if the queue is closed.
     */
    public suspend fun refresh() {
        val stats = queue.stats()
        latest = stats
        for ((type, states) in stats.depth) {
            for (state in states.keys) {
                val key = type to state
                if (depthGauges.containsKey(key)) continue
                synchronized(depthGauges) {
                    if (depthGauges.putIfAbsent(key, Unit) == null) registries.forEach { (registry, tags) -> registerDepth(registry, tags, key) }
                }
            }
        }
    }

    private fun registerDepth(registry: MeterRegistry, tags: Tags, key: Pair<String, TaskState>) {
        Gauge.builder("spool.tasks.depth", this) { m -> (m.latest?.depth?.get(key.first)?.get(key.second) ?: 0).toDouble() }
            .description("Tasks by type and state")
            .tags(tags)
            .tag("type", key.first)
            .tag("state", key.second.name)
            .register(registry)
    }

    /** Stops recording and refreshing, for every registry this binder was bound to. Closing twice is harmless. */
    override fun close() {
        scope.cancel()
        for (listener in attached) real.listeners.remove(listener)
        attached.clear()
    }

    private companion object {
        private val logger = LoggerFactory.getLogger(TaskQueueMetrics::class.java)
    }
}
