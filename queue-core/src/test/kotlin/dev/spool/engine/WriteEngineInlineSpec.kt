package dev.spool.engine

import dev.spool.storage.Durability
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield
import java.nio.file.Files
import java.nio.file.Path
import java.sql.Connection
import java.util.Collections
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/**
 * The engine's inline path: a caller on a `runBlocking` event loop commits on its own thread when
 * nobody else writes, and every other caller, or any contention, goes through the writer.
 */
class WriteEngineInlineSpec : FunSpec({

    test("a lone runBlocking caller commits on its own thread, and the row is on disk") {
        withEngine { engine, db ->
            val ran = runBlocking { engine.submit(Insert(db.connection, "a")) }
            ran shouldBe Thread.currentThread()
            engine.inlineGroups shouldBe 1
            db.rows() shouldContainExactly listOf("a")
            db.groups shouldContainExactly listOf(1)
        }
    }

    test("a bare command from a lone runBlocking caller runs outside any transaction, on the caller's thread") {
        withEngine { engine, db ->
            runBlocking { engine.submit(Insert(db.connection, "a")) }
            val ran = runBlocking {
                engine.submit(
                    object : BareCommand<Thread>() {
                        // SQLite refuses VACUUM inside a transaction.
                        override fun execute(connection: Connection): Thread {
                            connection.createStatement().use { it.execute("VACUUM") }
                            return Thread.currentThread()
                        }
                    },
                )
            }
            ran shouldBe Thread.currentThread()
            engine.inlineGroups shouldBe 2
            db.rows() shouldContainExactly listOf("a")
        }
    }

    test("a caller on Dispatchers.Default hands its command to the writer thread") {
        withEngine { engine, db ->
            val ran = runBlocking { withContext(Dispatchers.Default) { engine.submit(Insert(db.connection, "a")) } }
            ran.name shouldStartWith "spool-writer-"
            engine.inlineGroups shouldBe 0
            db.rows() shouldContainExactly listOf("a")
        }
    }

    test("coroutines sharing one runBlocking loop are group-committed by the writer, not one by one") {
        val writerThread = Executors.newSingleThreadExecutor { Thread(it, "test-writer") }
        val writerBusy = CountDownLatch(1)
        try {
            // The writer's thread is busy, so nothing is taken before all 64 have arrived.
            writerThread.execute { writerBusy.await(60, TimeUnit.SECONDS) }
            withEngine(writerThread.asCoroutineDispatcher()) { engine, db ->
                runBlocking {
                    repeat(64) { n -> launch { engine.submit(Insert(db.connection, "e$n")) } }
                    launch {
                        // Each of the 64 has had its turn and sent its command by now.
                        yield()
                        yield()
                        writerBusy.countDown()
                    }
                }
                engine.inlineGroups shouldBe 0
                db.groups shouldContainExactly listOf(64)
                db.rows() shouldContainExactly (0 until 64).map { "e$it" }
            }
        } finally {
            writerBusy.countDown()
            writerThread.shutdown()
        }
    }

    test("a runBlocking caller cancelled before its command started never commits") {
        withEngine { engine, db ->
            runBlocking {
                val write = launch(start = CoroutineStart.UNDISPATCHED) { engine.submit(Insert(db.connection, "cancelled")) }
                write.cancel()
                write.join()
                write.isCancelled shouldBe true
            }
            db.rows().shouldBeEmpty()
            // The engine is idle again: the next lone caller still commits inline.
            runBlocking { engine.submit(Insert(db.connection, "after")) }
            engine.inlineGroups shouldBe 1
            db.rows() shouldContainExactly listOf("after")
        }
    }

    test("inline callers and the writer never run commands at the same time") {
        withEngine { engine, db ->
            val inside = AtomicBoolean(false)
            val overlaps = AtomicInteger()
            val failures = ConcurrentLinkedQueue<Throwable>()
            val start = CountDownLatch(1)
            val exclusive = { tag: String ->
                object : WriteCommand<Unit>() {
                    override fun execute(connection: Connection) {
                        if (!inside.compareAndSet(false, true)) overlaps.incrementAndGet()
                        Insert(connection, tag).execute(connection)
                        Thread.yield()
                        inside.set(false)
                    }
                }
            }
            val threads = (0 until 4).map { t ->
                thread(name = "caller-$t") {
                    try {
                        start.await()
                        repeat(200) { n ->
                            runBlocking {
                                if (t % 2 == 0) {
                                    engine.submit(exclusive("t$t-$n"))
                                } else {
                                    withContext(Dispatchers.Default) { engine.submit(exclusive("t$t-$n")) }
                                }
                            }
                        }
                    } catch (e: Throwable) {
                        failures += e
                    }
                }
            }
            start.countDown()
            threads.forEach { it.join() }
            failures.shouldBeEmpty()
            overlaps.get() shouldBe 0
            db.rows().size shouldBe 800
            db.groups.sum() shouldBe 800
        }
    }

    test("close waits for an inline commit in progress, then refuses callers") {
        withEngine { engine, db ->
            val started = CountDownLatch(1)
            val release = CountDownLatch(1)
            val order = Collections.synchronizedList(ArrayList<String>())
            val failure = AtomicReference<Throwable>()
            val caller = thread(name = "inline-caller") {
                try {
                    runBlocking {
                        engine.submit(
                            object : WriteCommand<Unit>() {
                                override fun execute(connection: Connection) {
                                    started.countDown()
                                    check(release.await(60, TimeUnit.SECONDS))
                                    Insert(connection, "slow").execute(connection)
                                }

                                override fun onCommitted(value: Unit) {
                                    order += "committed"
                                }
                            },
                        )
                    }
                } catch (e: Throwable) {
                    failure.set(e)
                }
            }
            check(started.await(60, TimeUnit.SECONDS))
            val closer = thread(name = "closer") {
                try {
                    engine.close()
                    order += "closed"
                } catch (e: Throwable) {
                    failure.compareAndSet(null, e)
                }
            }
            awaitParked(closer)
            release.countDown()
            caller.join()
            closer.join()
            failure.get() shouldBe null
            order shouldContainExactly listOf("committed", "closed")
            val refused = runCatching { runBlocking { engine.submit(Insert(db.connection, "late")) } }
            refused.exceptionOrNull().shouldBeInstanceOf<IllegalStateException>()
            db.rows() shouldContainExactly listOf("slow")
        }
    }
})

/** Inserts [tag]; its value is the thread it ran on. */
private class Insert(private val connection: Connection, private val tag: String) : WriteCommand<Thread>() {
    override fun execute(connection: Connection): Thread {
        this.connection.prepareStatement("INSERT INTO t (tag) VALUES (?)").use {
            it.setString(1, tag)
            it.executeUpdate()
        }
        return Thread.currentThread()
    }
}

/** One file with a table `t`, its write connection, and the sizes of the groups committed. */
private class EngineDb(dir: Path) : TransactionHooks {
    val file: Path = dir.resolve("engine.db")
    val connection: Connection = openConnection(file, Durability.NORMAL, 5.seconds).apply {
        createStatement().use { it.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, tag TEXT NOT NULL)") }
    }
    val groups: MutableList<Int> = Collections.synchronizedList(ArrayList())
    private var inGroup = 0

    override fun begin(connection: Connection) {
        inGroup = connection.query("SELECT total_changes()") { it.next(); it.getInt(1) }
    }

    override fun committed() {
        groups += connection.query("SELECT total_changes()") { it.next(); it.getInt(1) } - inGroup
    }

    override fun rolledBack() {}

    fun rows(): List<String> = openConnection(file, Durability.NORMAL, 5.seconds).use { c ->
        c.query("SELECT tag FROM t ORDER BY id") { rs -> buildList { while (rs.next()) add(rs.getString(1)) } }
    }
}

private fun withEngine(
    dispatcher: kotlinx.coroutines.CoroutineDispatcher? = null,
    block: (WriteEngine, EngineDb) -> Unit,
) {
    val dir = Files.createTempDirectory("engine-inline")
    val db = EngineDb(dir)
    val statements = StatementCache(db.connection) { AutoCloseable {} }
    val engine = WriteEngine(
        db.connection, db, statements, maxBatch = 100, capacity = 128, name = "inline", dispatcher = dispatcher, translate = { it },
    )
    try {
        block(engine, db)
    } finally {
        engine.close()
        db.connection.close()
        dir.toFile().deleteRecursively()
    }
}

/** Waits until [thread] is blocked (on a lock or a join) or done; fails after 60 seconds. */
private fun awaitParked(thread: Thread) {
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
    while (thread.state !in setOf(Thread.State.WAITING, Thread.State.TIMED_WAITING, Thread.State.BLOCKED, Thread.State.TERMINATED)) {
        check(System.nanoTime() < deadline) { "${thread.name} never blocked" }
        Thread.yield()
    }
}
