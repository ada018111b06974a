package dev.spool.engine

import dev.spool.maintenance.Maintenance
import dev.spool.queue.ChildJvm
import dev.spool.queue.SIGKILL_EXIT
import dev.spool.queue.awaitCondition
import dev.spool.queue.makeReadOnly
import dev.spool.queue.makeWritable
import dev.spool.queue.readOnlyFilesPossible
import dev.spool.storage.QueueStorageException
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runInterruptible
import kotlinx.coroutines.withTimeout
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/** One queue under the [EngineContractSpec], seen through what every queue kind can do. */
interface ContractQueue : AutoCloseable {
    /** Writes one small row for [n]. */
    suspend fun write(n: Int)

    /** Writes one row for [n] whose payload has about [bytes] bytes. */
    suspend fun writeBig(n: Int, bytes: Int)

    /** How many rows the queue says it holds, as fresh as the queue promises. */
    suspend fun count(): Int

    /** The numbers of every row written by [write] and [writeBig] that is on disk. */
    suspend fun numbers(): Set<Int>

    /** The queue's count flow, if its kind has one. */
    val sizes: StateFlow<Int>?

    /** The queue's maintenance. */
    val maintenance: Maintenance
}

/** Opens one kind of queue for the [EngineContractSpec], here and in a child JVM. */
abstract class ContractKind(val kind: String) {
    abstract fun open(path: Path, name: String, walSizeLimitBytes: Long = 64L shl 20, checkIntegrity: Boolean = false): ContractQueue

    /** Damages an index definition of the file at [path] so that `PRAGMA integrity_check` fails. */
    abstract fun corruptIndex(path: Path)
}

private fun threadAlive(name: String): Boolean = Thread.getAllStackTraces().keys.any { it.name == name && it.isAlive }

private fun host(queue: ContractQueue): MaintenanceHost = (queue as Wrapper).host

/** What a [ContractQueue] wraps, so the contract can reach the engine's own seams. */
internal interface Wrapper {
    val host: MaintenanceHost
}

private fun tempFile(): Path = Files.createTempDirectory("spool-contract").resolve("queue.db")

/**
 * The engine contract: what both queue kinds promise about their database file, from opening to
 * closing and across processes. One subclass per kind (the SQLDelight pattern).
 */
abstract class EngineContractSpec(kind: ContractKind) : FunSpec({

    test("${kind.kind}: a write that hits a full disk fails with QueueStorageException, and once there is room the same queue writes again") {
        kind.open(tempFile(), "full").use { q ->
            repeat(5) { q.write(it) }
            host(q).onWriterBare { c ->
                val pages = c.longPragma("page_count")
                c.execute("PRAGMA max_page_count = $pages")
            }
            repeat(3) {
                val e = shouldThrow<QueueStorageException> { q.writeBig(100 + it, 300_000) }
                e.message shouldContain "SQLITE_FULL"
            }
            host(q).onWriterBare { c -> c.execute("PRAGMA max_page_count = 1073741823") }
            // Every prepared statement the failures touched must be usable again.
            q.writeBig(200, 300_000)
            q.write(201)
            q.numbers() shouldBe (0 until 5).toSet() + setOf(200, 201)
        }
    }

    test("${kind.kind}: a read-only file fails with QueueStorageException and keeps its rows").config(enabled = readOnlyFilesPossible) {
        val path = tempFile()
        kind.open(path, "ro").use { q -> repeat(3) { q.write(it) } }
        val how = makeReadOnly(path)
        try {
            val failure = runCatching { kind.open(path, "ro").use { q -> q.write(3) } }.exceptionOrNull()
            (failure is QueueStorageException) shouldBe true
        } finally {
            makeWritable(path)
        }
        println("read-only by $how")
        kind.open(path, "ro").use { q -> q.numbers() shouldBe setOf(0, 1, 2) }
    }

    test("${kind.kind}: every call after close throws IllegalStateException, and closing twice is harmless") {
        val q = kind.open(tempFile(), "closed")
        q.write(1)
        q.close()
        q.close()
        shouldThrow<IllegalStateException> { q.write(2) }.message shouldBe "Queue 'closed' is closed"
        shouldThrow<IllegalStateException> { q.numbers() }
        shouldThrow<IllegalStateException> { host(q).onWriterBare { } }
        threadAlive("spool-checkpointer-closed") shouldBe false
    }

    test("${kind.kind}: close on an interrupted thread releases everything, keeps the interrupt, and restore works after") {
        val path = tempFile()
        val backup = path.resolveSibling("backup.db")
        val q = kind.open(path, "interrupted")
        q.write(1)
        q.maintenance.backup(backup)
        q.write(2)
        // The writer is busy when close starts, so close really has to wait for it.
        val inWriter = CountDownLatch(1)
        val release = CountDownLatch(1)
        coroutineScope {
            val busy = launch(Dispatchers.IO) {
                host(q).onWriterBare {
                    inWriter.countDown()
                    check(release.await(60, TimeUnit.SECONDS)) { "never released" }
                }
            }
            runInterruptible(Dispatchers.IO) { check(inWriter.await(60, TimeUnit.SECONDS)) }
            val closer = CompletableFuture<Boolean>()
            thread(name = "closer") {
                try {
                    Thread.currentThread().interrupt()
                    q.close()
                    closer.complete(Thread.currentThread().isInterrupted)
                } catch (t: Throwable) {
                    closer.completeExceptionally(t)
                }
            }
            awaitCondition("close started") { runCatching { host(q).checkOpen() }.isFailure }
            release.countDown()
            closer.get(60, TimeUnit.SECONDS) shouldBe true
            busy.join()
        }
        awaitCondition("the writer and checkpointer threads ended") {
            !threadAlive("spool-writer-interrupted") && !threadAlive("spool-checkpointer-interrupted")
        }
        Maintenance.restore(backup, path)
        kind.open(path, "interrupted").use { it.numbers() shouldBe setOf(1) }
    }

    test("${kind.kind}: while a restore runs, open fails with QueueStorageException and leaves no thread behind") {
        val path = tempFile()
        kind.open(path, "restoring").use { it.write(1) }
        OpenFiles.exclusively(OpenFiles.key(path)) {
            shouldThrow<QueueStorageException> { kind.open(path, "restoring") }.message shouldContain "being restored"
        }
        threadAlive("spool-writer-restoring") shouldBe false
        threadAlive("spool-checkpointer-restoring") shouldBe false
        kind.open(path, "restoring").use { it.numbers() shouldBe setOf(1) }
    }

    test("${kind.kind}: the file stays registered until the writer drained, so restore is refused while close waits") {
        val path = tempFile()
        val backup = path.resolveSibling("backup.db")
        val q = kind.open(path, "draining")
        q.write(1)
        q.maintenance.backup(backup)
        val inWriter = CountDownLatch(1)
        val release = CountDownLatch(1)
        coroutineScope {
            val busy = launch(Dispatchers.IO) {
                host(q).onWriterBare {
                    inWriter.countDown()
                    check(release.await(60, TimeUnit.SECONDS)) { "never released" }
                }
            }
            runInterruptible(Dispatchers.IO) { check(inWriter.await(60, TimeUnit.SECONDS)) }
            val closed = CompletableFuture<Unit>()
            thread(name = "closer") {
                try {
                    q.close()
                    closed.complete(Unit)
                } catch (t: Throwable) {
                    closed.completeExceptionally(t)
                }
            }
            awaitCondition("close started") { runCatching { host(q).checkOpen() }.isFailure }
            shouldThrow<IllegalStateException> { Maintenance.restore(backup, path) }
            release.countDown()
            closed.get(60, TimeUnit.SECONDS)
            busy.join()
        }
        Maintenance.restore(backup, path)
    }

    test("${kind.kind}: cancelled callers leave the queue consistent and writable") {
        kind.open(tempFile(), "cancel").use { q ->
            coroutineScope {
                val writers = (0 until 200).map { n -> async(Dispatchers.IO, start = CoroutineStart.DEFAULT) { q.write(n) } }
                writers.take(100).forEach { it.cancelAndJoin() }
                writers.drop(100).forEach { it.await() }
            }
            q.write(1000)
            val numbers = q.numbers()
            numbers shouldContainAll (100 until 200).toList() + 1000
            q.count() shouldBe numbers.size
        }
    }

    test("${kind.kind}: another process's commits show in the count, and in sizes, without this queue writing") {
        val path = tempFile()
        kind.open(path, "observer").use { q ->
            q.write(0)
            q.count() shouldBe 1
            coroutineScope {
                val seen = q.sizes?.let { sizes -> async { withTimeout(60.seconds) { sizes.first { it == 11 } } } }
                ChildJvm(ContractChild::class, listOf(kind.kind, path.toString(), "1", "10"), path.parent).use { child ->
                    child.awaitExit() shouldBe 0
                }
                q.count() shouldBe 11
                seen?.await() shouldBe (if (q.sizes == null) null else 11)
            }
        }
    }

    test("${kind.kind}: after a SIGKILL every acknowledged write is on disk when reopened") {
        val path = tempFile()
        kind.open(path, "crash").use { it.write(0) }
        val acked = ChildJvm(ContractChild::class, listOf(kind.kind, path.toString(), "1", "-1"), path.parent).use { child ->
            repeat(100) { child.awaitLine("ack ") }
            val rest = child.kill()
            child.process.exitValue() shouldBe SIGKILL_EXIT
            rest.filter { it.startsWith("ack ") }.map { it.removePrefix("ack ").toInt() } + (1..100)
        }
        kind.open(path, "crash", checkIntegrity = true).use { q ->
            val numbers = q.numbers()
            numbers shouldContainAll acked + 0
            q.count() shouldBe numbers.size
        }
    }

    test("${kind.kind}: the WAL stays within walSizeLimitBytes plus a few writes") {
        val path = tempFile()
        val limit = 256L * 1024
        val row = 64 * 1024
        kind.open(path, "wal", walSizeLimitBytes = limit).use { q ->
            var largest = 0L
            repeat(100) {
                q.writeBig(it, row)
                largest = maxOf(largest, walSize(path))
            }
            // 6.4 MB written; SQLite's own auto-checkpoint would have left a WAL of about 4 MB.
            largest shouldBeLessThanOrEqual limit + 4L * (row + 8 * 1024)
        }
    }

    test("${kind.kind}: checkIntegrityOnOpen refuses a damaged file") {
        val path = tempFile()
        kind.open(path, "damaged").use { q -> repeat(20) { q.write(it) } }
        kind.corruptIndex(path)
        shouldThrow<QueueStorageException> { kind.open(path, "damaged", checkIntegrity = true) }.message shouldContain "integrity"
        threadAlive("spool-writer-damaged") shouldBe false
    }
})

/**
 * The child process of [EngineContractSpec]: opens a queue of the given kind and writes rows
 * numbered from `first`; `count` rows then exits, or forever (count -1), printing `ack <n>` once
 * each write returned.
 */
object ContractChild {
    @JvmStatic
    fun main(args: Array<String>) {
        val (kindName, path, first, count) = args
        val kind = when (kindName) {
            OfflineContract.kind -> OfflineContract
            TaskContract.kind -> TaskContract
            else -> error("unknown kind $kindName")
        }
        kotlinx.coroutines.runBlocking {
            kind.open(Path.of(path), "child").use { q ->
                var n = first.toInt()
                val end = if (count.toInt() < 0) Int.MAX_VALUE else n + count.toInt()
                while (n < end) {
                    q.write(n)
                    println("ack $n")
                    System.out.flush()
                    n++
                }
            }
        }
    }
}
