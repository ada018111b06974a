package dev.spool.maintenance

import dev.spool.storage.CheckpointMode
import dev.spool.storage.CheckpointResult
import dev.spool.storage.IntegrityReport
import dev.spool.engine.awaitBlocking
import java.io.IOException
import java.io.InterruptedIOException
import java.nio.file.Path

/**
 * A blocking view of [Maintenance] for Java callers: the same operations with the same semantics,
 * each blocking the calling thread until done. Obtain it from [Maintenance.blocking]; restore
 * with the static [Maintenance.restore].
 *
 * Safe to call from any number of threads; never from inside a coroutine. Interrupting a blocked
 * thread abandons the wait with an [InterruptedIOException]; an operation already running on the
 * writer still finishes.
 */
public class BlockingMaintenance internal constructor(
    /** The suspending object behind this facade. */
    @get:JvmName("suspending") public val maintenance: Maintenance,
) {
    /** See [Maintenance.backup]. @throws IOException if the copy fails. */
    @Throws(IOException::class)
    public fun backup(target: Path): Path = block { maintenance.backup(target) }

    /** See [Maintenance.backupRotating]. @throws IOException if the copy or the pruning fails. */
    @Throws(IOException::class)
    public fun backupRotating(directory: Path, keep: Int): Path = block { maintenance.backupRotating(directory, keep) }

    /** See [Maintenance.checkpoint]. @throws IOException if SQLite reports an error. */
    @Throws(IOException::class)
    public fun checkpoint(mode: CheckpointMode): CheckpointResult = block { maintenance.checkpoint(mode) }

    /** See [Maintenance.vacuum]. @throws IOException if SQLite reports an error. */
    @Throws(IOException::class)
    public fun vacuum(): Long = block { maintenance.vacuum() }

    /** See [Maintenance.incrementalVacuum]. @throws IOException if SQLite reports an error. */
    @Throws(IOException::class)
    public fun incrementalVacuum(): Long = block { maintenance.incrementalVacuum() }

    /** See [Maintenance.analyze]. @throws IOException if SQLite reports an error. */
    @Throws(IOException::class)
    public fun analyze() {
        block { maintenance.analyze() }
    }

    /** See [Maintenance.integrityCheck]. @throws IOException if the file cannot be read. */
    @Throws(IOException::class)
    public fun integrityCheck(): IntegrityReport = block { maintenance.integrityCheck() }

    /** See [Maintenance.walSizeBytes]. */
    public fun walSizeBytes(): Long = maintenance.walSizeBytes()

    private fun <T> block(body: suspend () -> T): T = awaitBlocking("maintenance", body)
}
