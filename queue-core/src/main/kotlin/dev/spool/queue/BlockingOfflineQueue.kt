package dev.spool.queue

import dev.spool.engine.awaitBlocking
import dev.spool.storage.QueueStorageException
import kotlinx.coroutines.runBlocking
import java.io.IOException
import java.io.InterruptedIOException
import java.nio.file.Path

/**
 * A blocking view of an [OfflineQueue] for Java callers: the same operations with the same
 * semantics, each blocking the calling thread until its write has committed or its read returned.
 *
 * Obtain one from [OfflineQueue.openBlocking] or [OfflineQueue.blocking]. It shares the queue's
 * writer, so blocking and suspending callers are group-committed together.
 *
 * **Threading.** Safe to call from any number of threads. Never call it from inside a coroutine:
 * use the [OfflineQueue] itself there.
 *
 * **Interruption.** Interrupting a blocked thread abandons the wait with an
 * [InterruptedIOException] and keeps the thread's interrupt flag set. As with cancellation, a write
 * already taken by the writer may still commit.
 *
 * **Errors.** Failures to read or write the file are [QueueStorageException]s, which are
 * [IOException]s; refused input is an [InvalidEventException] (an [IllegalArgumentException]);
 * a full strict cap is an [OfflineQueueFullException]; use after close is an
 * [IllegalStateException].
 */
public class BlockingOfflineQueue internal constructor(
    /** The suspending queue behind this facade. */
    @get:JvmName("suspending") public val queue: OfflineQueue,
) : AutoCloseable {

    /** See [OfflineQueue.config]. */
    public val config: QueueConfig get() = queue.config

    /** See [OfflineQueue.queueEvent]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun queueEvent(event: QueueEvent): EnqueueResult = block { queue.queueEvent(event) }

    /** See [OfflineQueue.append], with [QueueConfig.strictCap]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun append(event: QueueEvent): EnqueueResult = block { queue.append(event) }

    /** See [OfflineQueue.append]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun append(event: QueueEvent, cap: Int): EnqueueResult = block { queue.append(event, cap) }

    /** See [OfflineQueue.size]: O(1), never touches the disk. */
    public fun size(): Int = runBlocking { queue.size() }

    /** See [OfflineQueue.sizeFromDisk]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun sizeFromDisk(): Int = block { queue.sizeFromDisk() }

    /** See [OfflineQueue.peek], with a limit of 1000. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun peek(): List<QueuedEvent> = block { queue.peek() }

    /** See [OfflineQueue.peek]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun peek(limit: Int): List<QueuedEvent> = block { queue.peek(limit) }

    /** See [OfflineQueue.peekPage]: the first page. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun peekPage(limit: Int): EventPage = block { queue.peekPage(limit) }

    /** See [OfflineQueue.peekPage]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun peekPage(limit: Int, cursor: EventCursor?): EventPage = block { queue.peekPage(limit, cursor) }

    /** See [OfflineQueue.markSynced]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun markSynced(eventIds: Collection<String>): Int = block { queue.markSynced(eventIds) }

    /** See [OfflineQueue.incrementRetry]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun incrementRetry(eventIds: Collection<String>): Int = block { queue.incrementRetry(eventIds) }

    /** See [OfflineQueue.eventsBelowRetryCount], with a limit of 1000. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun eventsBelowRetryCount(maxRetries: Int): List<QueuedEvent> =
        block { queue.eventsBelowRetryCount(maxRetries) }

    /** See [OfflineQueue.eventsBelowRetryCount]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun eventsBelowRetryCount(maxRetries: Int, limit: Int): List<QueuedEvent> =
        block { queue.eventsBelowRetryCount(maxRetries, limit) }

    /** See [OfflineQueue.processBatchResults]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun processBatchResults(results: Collection<BatchEventResult>) {
        block { queue.processBatchResults(results) }
    }

    /** See [OfflineQueue.removeProjectEvents]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun removeProjectEvents(projectId: String): Int = block { queue.removeProjectEvents(projectId) }

    /** See [OfflineQueue.clear]. @throws IOException if the write fails. */
    @Throws(IOException::class)
    public fun clear(): Int = block { queue.clear() }

    /** See [OfflineQueue.drainToFile]. @throws IOException if the file or the queue cannot be written. */
    @Throws(IOException::class)
    public fun drainToFile(path: Path): Int = block { queue.drainToFile(path) }

    /** See [OfflineQueue.replayFile]. @throws IOException if the file cannot be read or the write fails. */
    @Throws(IOException::class)
    public fun replayFile(path: Path): Int = block { queue.replayFile(path) }

    /** See [OfflineQueue.stats]. @throws IOException if the read fails. */
    @Throws(IOException::class)
    public fun stats(): QueueStats = block { queue.stats() }

    /** A [java.util.concurrent.CompletableFuture] view of the same queue. */
    public fun async(): AsyncOfflineQueue = queue.async()

    /** Closes the queue; see [OfflineQueue.close]. */
    override fun close(): Unit = queue.close()

    private fun <T> block(body: suspend () -> T): T = awaitBlocking("the queue", body)
}
