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
    private val COMPANIONS = listOf("-wal", "-shm", "-journal")
    private val open = ConcurrentHashMap<Path, Int>()

    /**
     * The key of [path]: its real path when it exists, else its name under its directory's real
     * path when that exists, so two spellings of one file (symbolic links, `..`) agree.
     */
    fun key(path: Path): Path {
        val absolute = path.toAbsolutePath().normalize()
        if (Files.exists(absolute)) return absolute.toRealPath()
        val parent = absolute.parent ?: return absolute
        return if (Files.isDirectory(parent)) parent.toRealPath().resolve(absolute.fileName) else absolute
    }

    /**
     * Refuses [target] as the destination of a write that replaces a file (a backup, a drain, a
     * restore's companions): it must not be a database file open in this JVM, nor one of its
     * `-wal`, `-shm` or `-journal` companions, compared by real path. Writing over either under an
     * open connection loses data.
     *
     * The one check every such site calls. It sees files opened by queues of this class loader
     * only; a file another process has open is not detected.
     *
     * @throws IllegalArgumentException naming [field] and the open file.
     */
    fun requireNotOpen(target: Path, field: String) {
        val key = key(target)
        if (open.containsKey(key)) {
            throw IllegalArgumentException("$field $target is the database file of a queue open in this process")
        }
        requireNotCompanion(key, target, field)
    }

    /** The companion half of [requireNotOpen], for a restore, which refuses an open [target] itself with an [IllegalStateException]. */
    fun requireNotCompanion(target: Path, field: String) {
        requireNotCompanion(key(target), target, field)
    }

    private fun requireNotCompanion(key: Path, target: Path, field: String) {
        val name = key.fileName?.toString() ?: return
        for (file in open.keys) {
            val suffix = COMPANIONS.firstOrNull { file.parent == key.parent && name == file.fileName.toString() + it }
            if (suffix != null) {
                throw IllegalArgumentException("$field $target is the $suffix file of $file, which a queue in this process has open")
            }
        }
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
