package dev.spool.maintenance

import dev.spool.storage.CheckpointMode
import dev.spool.storage.CheckpointResult
import dev.spool.storage.IntegrityReport
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.future.future
import java.nio.file.Path
import java.util.concurrent.CompletableFuture
import kotlin.coroutines.CoroutineContext

/**
 * A [CompletableFuture] view of [Maintenance] for Java callers who must not block: the same
 * operations with the same semantics. Obtain it from [Maintenance.async]; restore with the static
 * (blocking) [Maintenance.restore].
 *
 * Each method starts the operation and returns at once. The future completes when the operation
 * is done, on a thread of the maintenance object's context (by default
 * [kotlinx.coroutines.Dispatchers.IO]), never on the queue's writer thread, and exceptionally with
 * the exceptions documented on [Maintenance]. Cancelling a future whose operation still waits
 * for the writer drops the operation; once it runs, it runs to the end.
 *
 * Safe to call from any number of threads. It holds no resource of its own: closing the queue is
 * enough.
 */
public class AsyncMaintenance internal constructor(
    /** The suspending object behind this facade. */
    @get:JvmName("suspending") public val maintenance: Maintenance,
    context: CoroutineContext,
) {
    private val scope = CoroutineScope(SupervisorJob() + context)

    /** See [Maintenance.backup]. */
    public fun backup(target: Path): CompletableFuture<Path> = scope.future { maintenance.backup(target) }

    /** See [Maintenance.backupRotating]. */
    public fun backupRotating(directory: Path, keep: Int): CompletableFuture<Path> =
        scope.future { maintenance.backupRotating(directory, keep) }

    /** See [Maintenance.checkpoint], with [CheckpointMode.PASSIVE]. */
    public fun checkpoint(): CompletableFuture<CheckpointResult> = scope.future { maintenance.checkpoint() }

    /** See [Maintenance.checkpoint]. */
    public fun checkpoint(mode: CheckpointMode): CompletableFuture<CheckpointResult> =
        scope.future { maintenance.checkpoint(mode) }

    /** See [Maintenance.vacuum]. */
    public fun vacuum(): CompletableFuture<Long> = scope.future { maintenance.vacuum() }

    /** See [Maintenance.incrementalVacuum]. */
    public fun incrementalVacuum(): CompletableFuture<Long> = scope.future { maintenance.incrementalVacuum() }

    /** See [Maintenance.analyze]. */
    public fun analyze(): CompletableFuture<Void?> = scope.future {
        maintenance.analyze()
        null
    }

    /** See [Maintenance.integrityCheck]. */
    public fun integrityCheck(): CompletableFuture<IntegrityReport> = scope.future { maintenance.integrityCheck() }

    /** See [Maintenance.walSizeBytes]: one `stat`, so the future is already complete. */
    public fun walSizeBytes(): CompletableFuture<Long> = CompletableFuture.completedFuture(maintenance.walSizeBytes())
}
