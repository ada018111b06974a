package dev.spool.engine

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ConcurrentHashMap

/**
 * The database files this JVM (this class loader) has open, so `Maintenance.restore` can refuse
 * to overwrite a file under a live queue. Other processes are not seen: restore writes through
 * SQLite's locking, so they observe a consistent (replaced) database, not a torn one.
 */
internal object OpenFiles {
    private const val RESTORING = -1
    private val open = ConcurrentHashMap<Path, Int>()

    /**
     * The key of [path]: its real path when it exists (else its directory's real path and its
     * name), so two spellings of one file agree, before and after the file is created.
     */
    fun key(path: Path): Path {
        val absolute = path.toAbsolutePath().normalize()
        if (Files.exists(absolute)) return absolute.toRealPath()
        val parent = absolute.parent ?: return absolute
        return if (Files.exists(parent)) parent.toRealPath().resolve(absolute.fileName) else absolute
    }

    /** Records one more open handle on [key]. @throws IllegalStateException while it is being restored. */
    fun acquire(key: Path) {
        open.compute(key) { _, count ->
            check(count != RESTORING) { "$key is being restored from a backup; open it once the restore returned" }
            (count ?: 0) + 1
        }
    }

    fun release(key: Path) {
        open.computeIfPresent(key) { _, count -> if (count <= 1) null else count - 1 }
    }

    fun isOpen(key: Path): Boolean = open.containsKey(key)

    /**
     * Runs [block] while no queue may open [key].
     *
     * @throws IllegalStateException if a queue has it open.
     */
    fun <T> exclusively(key: Path, block: () -> T): T {
        open.compute(key) { _, count ->
            check(count == null) {
                if (count == RESTORING) "$key is already being restored"
                else "$key is open in this process ($count handle(s)); close every queue on it before restoring"
            }
            RESTORING
        }
        try {
            return block()
        } finally {
            open.remove(key, RESTORING)
        }
    }
}
