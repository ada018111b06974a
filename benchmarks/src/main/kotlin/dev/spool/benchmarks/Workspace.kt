package dev.spool.benchmarks

import dev.spool.queue.OfflineQueue
import org.sqlite.SQLiteConfig
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.sql.Connection

/**
 * Prefilled database files for the benchmarks, all in one directory on one disk.
 *
 * Each prefill depth is built once, as a template: a Spool-schema file holding `depth` rows with
 * ~300-byte JSON payloads and ids 1..depth, in WAL mode and checkpointed. Every trial copies the
 * template ([copy], forced to disk so the copy's writeback never lands inside a measurement) and
 * every iteration [trim]s the rows the previous iteration added, so each iteration starts at the
 * same depth.
 *
 * The directory is the system property `spool.bench.dir` (run.sh passes one on the same disk as
 * the results), or `spool-bench` under `java.io.tmpdir`. Templates are kept between runs, keyed
 * by depth and [TEMPLATE_VERSION].
 */
public object Workspace {
    /** Bump when the template's content or schema changes, so stale templates are rebuilt. */
    private const val TEMPLATE_VERSION = 1

    /** The directory holding templates and per-trial copies. */
    public val directory: Path by lazy {
        val configured = System.getProperty("spool.bench.dir")
        val dir = if (configured != null) Paths.get(configured) else Paths.get(System.getProperty("java.io.tmpdir"), "spool-bench")
        Files.createDirectories(dir)
    }

    /** A fresh copy of the template holding [depth] rows, named after [label]. */
    public fun copy(depth: Int, label: String): Path {
        val template = template(depth)
        val target = directory.resolve("$label-$depth-${ProcessHandle.current().pid()}.db")
        delete(target)
        Files.copy(template, target, StandardCopyOption.REPLACE_EXISTING)
        FileChannel.open(target, StandardOpenOption.WRITE).use { it.force(true) }
        return target
    }

    /** Deletes every row added after the prefill (ids above [depth]) and checkpoints the WAL. */
    public fun trim(file: Path, depth: Int) {
        connect(file).use { connection ->
            connection.createStatement().use { statement ->
                statement.executeUpdate("DELETE FROM queue WHERE id > $depth")
                statement.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
    }

    /** Deletes [file] and its journal, WAL and shared-memory files. */
    public fun delete(file: Path) {
        for (suffix in listOf("", "-wal", "-shm", "-journal")) {
            Files.deleteIfExists(file.resolveSibling(file.fileName.toString() + suffix))
        }
    }

    /** A plain connection to [file] with a busy timeout and the file's own journal mode. */
    public fun connect(file: Path): Connection =
        SQLiteConfig().apply { setBusyTimeout(10_000) }.createConnection("jdbc:sqlite:$file")

    @Synchronized
    private fun template(depth: Int): Path {
        val template = directory.resolve("template-v$TEMPLATE_VERSION-$depth.db")
        if (Files.exists(template)) return template
        val building = directory.resolve("building-${ProcessHandle.current().pid()}-$depth.db")
        delete(building)
        // Let Spool create its own schema, then fill it in one transaction.
        OfflineQueue.open(building).close()
        connect(building).use { connection ->
            connection.autoCommit = false
            val now = System.currentTimeMillis() - depth
            connection.prepareStatement(
                "INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES (?, ?, ?, ?)",
            ).use { insert ->
                for (i in 0 until depth) {
                    insert.setString(1, Events.newId())
                    insert.setString(2, Events.type(i))
                    insert.setString(3, Events.payload(i))
                    insert.setLong(4, now + i)
                    insert.addBatch()
                    if (i % 1000 == 999) insert.executeBatch()
                }
                insert.executeBatch()
            }
            connection.commit()
            connection.autoCommit = true
            connection.createStatement().use { it.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        Files.move(building, template, StandardCopyOption.ATOMIC_MOVE)
        delete(building)
        return template
    }
}
