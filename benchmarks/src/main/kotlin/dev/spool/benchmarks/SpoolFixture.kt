package dev.spool.benchmarks

import dev.spool.storage.Durability
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import kotlinx.coroutines.runBlocking
import java.nio.file.Path

/**
 * One Spool queue on a fresh copy of a prefilled template, shared by the Spool benchmarks' states.
 *
 * The caps are set far above any depth measured, so no benchmark evicts or hits the strict cap:
 * they measure the plain insert path. Not thread-safe: JMH calls [open], [resetIteration] and
 * [close] from one thread.
 */
public class SpoolFixture(private val label: String) {
    private var file: Path? = null
    private var depth = 0

    /** The open queue; valid between [open] and [close]. */
    public lateinit var queue: OfflineQueue
        private set

    /** Copies the template for [depth] rows and opens a queue on it with [durability]. */
    public fun open(depth: Int, durability: String) {
        this.depth = depth
        val copy = Workspace.copy(depth, label)
        file = copy
        queue = OfflineQueue.open(
            copy,
            QueueConfig(
                maxQueueSize = 100_000_000,
                strictCap = 100_000_000,
                durability = Durability.valueOf(durability),
                name = label,
            ),
        )
    }

    /**
     * Brings the file back to the prefill depth (another connection deletes what the previous
     * iteration added), then writes one event so the queue's one-off recount after that foreign
     * write happens here, outside the measurement.
     */
    public fun resetIteration() {
        Workspace.trim(file!!, depth)
        runBlocking { queue.queueEvent(Events.next()) }
    }

    /** Closes the queue and deletes the copy. */
    public fun close() {
        if (::queue.isInitialized) queue.close()
        file?.let(Workspace::delete)
        file = null
    }
}
