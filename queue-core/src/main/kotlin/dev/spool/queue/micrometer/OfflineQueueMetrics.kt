package dev.spool.queue.micrometer

import dev.spool.queue.OfflineQueue
import dev.spool.engine.EngineListener
import dev.spool.queue.internal.RealOfflineQueue
import dev.spool.engine.walSize
import io.micrometer.core.instrument.DistributionSummary
import io.micrometer.core.instrument.Gauge
import io.micrometer.core.instrument.MeterRegistry
import io.micrometer.core.instrument.Tag
import io.micrometer.core.instrument.Tags
import io.micrometer.core.instrument.Timer
import io.micrometer.core.instrument.binder.MeterBinder
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancelChildren
import kotlinx.coroutines.launch
import java.util.concurrent.TimeUnit

/**
 * A Micrometer [MeterBinder] for one [OfflineQueue]. Every meter carries the tag `queue` with
 * [dev.spool.queue.QueueConfig.name], plus any [extraTags].
 *
 * | meter                           | type                | what                                                  |
 * |---------------------------------|---------------------|-------------------------------------------------------|
 * | `spool.queue.depth`             | gauge               | rows in the queue (the cached count, no query; follows other processes within 250 ms while bound) |
 * | `spool.queue.deferred.pending`  | gauge               | acknowledgements recorded in `deferredSync`, not flushed |
 * | `spool.queue.wal.size`          | gauge, bytes        | the WAL file's size (one `stat` per scrape)           |
 * | `spool.queue.enqueue`           | timer               | queueEvent/append latency, caller's view, to commit   |
 * | `spool.queue.commit.batch`      | distribution summary| writes committed per group commit                     |
 * | `spool.queue.transaction`       | timer               | each group's `BEGIN IMMEDIATE` to `COMMIT`            |
 *
 * ```
 * OfflineQueueMetrics(queue).bindTo(registry)
 * ```
 *
 * Micrometer is an optional dependency of `queue-core`: add `io.micrometer:micrometer-core` to
 * use this class. Nothing else in `queue-core` refers to Micrometer.
 *
 * **Cost.** Without a binder the engine reads no clock. Bound, it reads the clock twice per
 * group commit and twice per enqueue, and records into the meters on the writer thread (commits)
 * or the caller's thread (enqueues).
 *
 * **Threading.** [bindTo] and [close] may be called from any thread. Binding to several
 * registries is allowed. [close] stops recording the timers and the summary and stops following
 * other processes' commits; the gauges stay
 * registered (remove them from the registry if needed) and keep reporting the last values.
 *
 * @throws IllegalArgumentException from the constructor if [queue] was not opened by
 *   [OfflineQueue.open].
 */
public class OfflineQueueMetrics @JvmOverloads constructor(
    private val queue: OfflineQueue,
    private val extraTags: Iterable<Tag> = emptyList(),
) : MeterBinder, AutoCloseable {
    private val real = queue as? RealOfflineQueue
        ?: throw IllegalArgumentException("queue must be opened by OfflineQueue.open, was ${queue::class.java.name}")
    private val attached = CopyOnWriteArrayList<EngineListener>()

    /**
     * Collects [OfflineQueue.sizes] while bound: a collector is what makes the queue poll the
     * file for other processes' commits, so the depth gauge follows them too. Unconfined, so it
     * owns no thread; the collector itself does nothing.
     */
    private val follower = CoroutineScope(SupervisorJob() + Dispatchers.Unconfined)

    /**
     * Registers the meters in the table above in [registry] and starts recording the timers and
     * the summary. May be called for several registries, from any thread.
     */
    override fun bindTo(registry: MeterRegistry) {
        val tags = Tags.of("queue", queue.config.name).and(extraTags)
        Gauge.builder("spool.queue.depth", queue) { it.sizes.value.toDouble() }
            .description("Rows in the offline queue")
            .tags(tags)
            .register(registry)
        Gauge.builder("spool.queue.deferred.pending", queue) { it.deferredSync.pending.toDouble() }
            .description("Acknowledged rows recorded in deferredSync and not yet deleted")
            .tags(tags)
            .register(registry)
        Gauge.builder("spool.queue.wal.size", real) { walSize(it.path).toDouble() }
            .description("Size of the SQLite write-ahead log")
            .baseUnit("bytes")
            .tags(tags)
            .register(registry)
        val enqueue = Timer.builder("spool.queue.enqueue")
            .description("Enqueue latency until the write committed")
            .tags(tags)
            .register(registry)
        val batch = DistributionSummary.builder("spool.queue.commit.batch")
            .description("Writes committed together in one group commit")
            .baseUnit("writes")
            .tags(tags)
            .register(registry)
        val transaction = Timer.builder("spool.queue.transaction")
            .description("Write transaction time, BEGIN IMMEDIATE to COMMIT")
            .tags(tags)
            .register(registry)
        val listener = object : EngineListener {
            override fun groupCommitted(commands: Int, transactionNanos: Long) {
                batch.record(commands.toDouble())
                transaction.record(transactionNanos, TimeUnit.NANOSECONDS)
            }

            override fun enqueued(latencyNanos: Long) {
                enqueue.record(latencyNanos, TimeUnit.NANOSECONDS)
            }
        }
        attached += listener
        real.listeners.add(listener)
        follower.launch { queue.sizes.collect { } }
    }

    /** Stops recording into every registry this binder was bound to. Closing twice is harmless. */
    override fun close() {
        for (listener in attached) real.listeners.remove(listener)
        attached.clear()
        follower.coroutineContext[Job]?.cancelChildren()
    }
}
