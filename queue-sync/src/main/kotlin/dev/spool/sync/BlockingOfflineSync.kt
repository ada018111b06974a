package dev.spool.sync

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.collectLatest
import kotlinx.coroutines.future.future
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory
import java.util.concurrent.CompletableFuture
import kotlin.time.toKotlinDuration

/**
 * An [OfflineSync] for Java callers, made by [OfflineSync.createBlocking]: it owns the scope the
 * loop runs in, and offers start and stop, a [CompletableFuture] for [flushNow], and listeners.
 *
 * **Threading.** Every method may be called from any thread. Listeners are called on a
 * background thread.
 *
 * **Closing.** [stop] (or [close]) lets the current batch finish, flushes the acknowledgements,
 * and blocks until the loop has ended; then the owned scope is cancelled and listeners stop.
 * Stopping twice is harmless.
 */
public class BlockingOfflineSync internal constructor(
    /** The suspending sync behind this facade. */
    @get:JvmName("suspending") public val sync: OfflineSync,
) : AutoCloseable {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /**
     * Starts the loop in this facade's scope.
     *
     * @throws IllegalStateException if it was already started, or stopped.
     */
    public fun start() {
        sync.start(scope)
    }

    /**
     * Starts a flush now and completes with what it did; see [OfflineSync.flushNow]. The future
     * fails with [IllegalStateException] if the sync is not started, is stopped, or stops before
     * the flush ran. Cancelling the future abandons the wait, not the flush.
     */
    public fun flushNow(): CompletableFuture<FlushResult> = scope.future { sync.flushNow() }

    /** The latest progress; see [OfflineSync.progress]. */
    public fun progress(): SyncProgress = sync.progress.value

    /**
     * Calls [listener] with the latest progress, now and after each change, until the returned
     * handle is closed or the sync is stopped.
     */
    public fun addListener(listener: SyncListener): AutoCloseable {
        val job = scope.launch {
            sync.progress.collectLatest { progress ->
                try {
                    listener.onProgress(progress)
                } catch (e: Exception) {
                    logger.warn("SyncListener threw; ignored", e)
                }
            }
        }
        return AutoCloseable { job.cancel() }
    }

    /**
     * Stops the sync gently (see [OfflineSync.close]) and blocks until its loop has ended, at
     * most [timeout]; then cancels the owned scope, which abandons an upload still running.
     * Returns true if the loop ended within [timeout].
     */
    public fun stop(timeout: java.time.Duration): Boolean {
        sync.close()
        val ended = runBlocking { withTimeoutOrNull(timeout.toKotlinDuration()) { sync.join() } != null }
        scope.cancel()
        return ended
    }

    /** [stop] with no time limit. */
    override fun close() {
        sync.close()
        runBlocking { sync.join() }
        scope.cancel()
    }

    override fun toString(): String = "BlockingOfflineSync($sync)"

    private companion object {
        private val logger = LoggerFactory.getLogger(BlockingOfflineSync::class.java)
    }
}
