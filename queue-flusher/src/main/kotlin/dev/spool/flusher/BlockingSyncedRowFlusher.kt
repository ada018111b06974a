package dev.spool.flusher

import dev.spool.queue.BatchEventResult
import dev.spool.storage.QueueStorageException
import dev.spool.queue.QueuedEvent
import kotlinx.coroutines.runBlocking
import java.io.IOException
import java.io.InterruptedIOException

/**
 * A blocking view of a [SyncedRowFlusher] for Java callers: the same operations with the same
 * semantics, each blocking the calling thread until it is done.
 *
 * Obtain one from [SyncedRowFlusher.createBlocking] or [SyncedRowFlusher.blocking]. Recording
 * ([markSynced], [markEventsSynced]) never blocks on the disk; [flush], [processBatchResults] and
 * [close] wait for the queue's writer.
 *
 * **Threading.** Safe to call from any number of threads. Never call it from inside a coroutine:
 * use the [SyncedRowFlusher] itself there.
 *
 * **Interruption.** Interrupting a blocked thread abandons the wait with an
 * [InterruptedIOException] and keeps the thread's interrupt flag set. A delete already taken by
 * the writer may still commit.
 *
 * **Errors.** Failures to write are [QueueStorageException]s, which are [IOException]s; use after
 * close is an [IllegalStateException]. See [SyncedRowFlusher] for background failures.
 */
public class BlockingSyncedRowFlusher internal constructor(
    /** The suspending flusher behind this facade. */
    @get:JvmName("suspending") public val flusher: SyncedRowFlusher,
) : AutoCloseable {

    /** See [SyncedRowFlusher.pending]. */
    public val pending: Int get() = flusher.pending

    /**
     * See [SyncedRowFlusher.markSynced]. Returns at once.
     *
     * @throws IllegalStateException if the flusher is closed.
     */
    public fun markSynced(eventIds: Collection<String>): Unit = flusher.recordIds(eventIds)

    /**
     * See [SyncedRowFlusher.markEventsSynced]. Returns at once.
     *
     * @throws IllegalStateException if the flusher is closed.
     */
    public fun markEventsSynced(events: Collection<QueuedEvent>): Unit = flusher.recordEvents(events)

    /**
     * See [SyncedRowFlusher.processBatchResults], with no uploaded events: deleting verdicts
     * cover whatever content the rows hold now.
     *
     * @throws IOException if the queue's part could not be committed.
     */
    @Throws(IOException::class)
    public fun processBatchResults(results: Collection<BatchEventResult>) {
        block { flusher.processBatchResults(results) }
    }

    /**
     * See [SyncedRowFlusher.processBatchResults]: deleting verdicts for [uploaded] events are
     * pinned to the revision that was read.
     *
     * @throws IOException if the queue's part could not be committed.
     */
    @Throws(IOException::class)
    public fun processBatchResults(results: Collection<BatchEventResult>, uploaded: Collection<QueuedEvent>) {
        block { flusher.processBatchResults(results, uploaded) }
    }

    /**
     * See [SyncedRowFlusher.flush].
     *
     * @throws IOException if the delete, or an earlier background one, could not be committed.
     */
    @Throws(IOException::class)
    public fun flush(): Int = block { flusher.flush() }

    /** See [SyncedRowFlusher.unsyncedSize]: O(1), never touches the disk. */
    public fun unsyncedSize(): Int = runBlocking { flusher.unsyncedSize() }

    /** A [java.util.concurrent.CompletableFuture] view of the same flusher. */
    public fun async(): AsyncSyncedRowFlusher = flusher.async()

    /**
     * Closes the flusher; see [SyncedRowFlusher.close]. The queue stays open.
     *
     * @throws IOException if the final delete could not be committed.
     */
    @Throws(IOException::class)
    override fun close(): Unit = flusher.close()

    private fun <T> block(body: suspend () -> T): T = try {
        runBlocking { body() }
    } catch (e: InterruptedException) {
        Thread.currentThread().interrupt()
        throw InterruptedIOException("Interrupted while waiting for the flusher").apply { initCause(e) }
    }
}
