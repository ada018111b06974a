package dev.spool.engine

import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ClosedSendChannelException
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.launch
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.yield
import java.sql.Connection
import java.sql.PreparedStatement
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.locks.ReentrantLock
import kotlin.coroutines.ContinuationInterceptor
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * One unit of work for the [WriteEngine]: runs on the writer thread, inside a write transaction
 * shared with the other commands of its group.
 *
 * [execute] may throw [CommandRejected] to fail only itself, provided it has written nothing yet.
 * Any other exception rolls the whole group back, and the engine retries each command alone.
 */
internal abstract class WriteCommand<T> {
    val result: CompletableDeferred<T> = CompletableDeferred()

    abstract fun execute(connection: Connection): T

    /** Called on the writer thread after the transaction holding this command committed. */
    open fun onCommitted(value: T) {}
}

/**
 * A [WriteCommand] that runs alone on the writer thread *outside* any transaction, between two
 * groups: for statements SQLite refuses inside one (`VACUUM`, `PRAGMA wal_checkpoint`). Because
 * it runs on the writer, no write of this queue can interleave with it. It must not change rows,
 * since the cached count does not see it.
 */
internal abstract class BareCommand<T> : WriteCommand<T>()

/** Thrown by a [WriteCommand] that refuses to run before writing anything: fails it alone. */
internal class CommandRejected(val error: Throwable) : RuntimeException(null, null, false, false)

/**
 * Callbacks around each write transaction, on the writer thread. The hooks' prepared statements
 * live in the engine's [StatementCache], which the engine renews after every rollback, before
 * [rolledBack] runs.
 */
internal interface TransactionHooks {
    /** Right after `BEGIN IMMEDIATE`, before the group's commands. */
    fun begin(connection: Connection)

    /** After `COMMIT` succeeded. */
    fun committed()

    /** After the transaction was rolled back; the [StatementCache] has been invalidated already. */
    fun rolledBack()

    /**
     * After a group committed and its callers were resumed, outside any transaction: the place
     * for housekeeping such as the automatic checkpoint. Must not throw.
     */
    fun afterGroup() {}
}

/**
 * The single writer: owns [connection], takes commands from a bounded channel and commits every
 * command waiting (up to [maxBatch]) in one `BEGIN IMMEDIATE` transaction. Each command's caller
 * resumes only once that transaction committed.
 *
 * It also owns the lifecycle of the hooks' prepared [statements]: after any failed transaction
 * they are invalidated, so whatever runs next prepares usable ones.
 *
 * **The inline path.** A caller whose thread is blocked on this call anyway (a `runBlocking` event
 * loop: the blocking facades, or an application's own `runBlocking`) runs its command and commits
 * it on its own thread when nothing else is queued and the writer is idle, saving the two thread
 * hand-offs a lone caller would otherwise pay. [owner] guarantees one writer at a time: the writer
 * coroutine holds it around every group and bare command, the inline caller around its own group,
 * and [queued] counts commands sent but not yet finished, so an inline caller never overtakes one.
 * Callers on shared dispatchers (Default, IO, an application's pool) always hand off: the commit
 * may wait on fsync or on another connection's lock, which must not stall a pool thread. Fields
 * the hooks call "writer" are therefore touched by whoever holds [owner].
 */
internal class WriteEngine(
    private val connection: Connection,
    private val hooks: TransactionHooks,
    private val statements: StatementCache<*>,
    private val maxBatch: Int,
    capacity: Int,
    private val name: String,
    dispatcher: CoroutineDispatcher?,
    private val translate: (Throwable) -> Throwable,
) {
    private val channel = Channel<WriteCommand<*>>(capacity)
    private val ownedExecutor: ExecutorService? = if (dispatcher == null) {
        Executors.newSingleThreadExecutor { runnable ->
            Thread(runnable, "spool-writer-$name").apply { isDaemon = true }
        }
    } else {
        null
    }
    private val scope = CoroutineScope(SupervisorJob() + (dispatcher ?: ownedExecutor!!.asCoroutineDispatcher()))
    private val closed = AtomicBoolean(false)
    /** Held by whoever runs commands on [connection]: the writer per group, or an inline caller. */
    private val owner = ReentrantLock()
    /** Commands sent to [channel] whose group has not finished yet. */
    private val queued = AtomicInteger()
    /** Event-loop callers between arriving and choosing a path; more than one means contention. */
    private val arriving = AtomicInteger()
    @Volatile private var stopped = false

    /** Groups committed on a caller's thread instead of the writer's (for tests and profiles). */
    @Volatile var inlineGroups: Long = 0
        private set
    // Re-prepared after a failure: sqlite-jdbc finalizes a statement that fails with anything but
    // BUSY, LOCKED, CONSTRAINT or MISUSE (see rollBackAfterFailure).
    private var begin: PreparedStatement = connection.prepareStatement("BEGIN IMMEDIATE")
    private var commit: PreparedStatement = connection.prepareStatement("COMMIT")
    private val loop: Job = scope.launch { run() }

    /** Instrumentation; empty unless a metrics binder attached itself. */
    val listeners: EngineListeners = EngineListeners()

    /**
     * Runs [command] and suspends until its transaction committed: on the calling thread when the
     * caller runs on a `runBlocking` event loop and nobody else is writing (see the class KDoc),
     * otherwise on the writer, sent through the channel.
     */
    suspend fun <T> submit(command: WriteCommand<T>): T {
        if (queued.get() == 0 && !owner.isLocked && onOwnThread(currentCoroutineContext()[ContinuationInterceptor])) {
            // The writer is idle. Other coroutines of the same event loop get one turn to arrive
            // too: if any does, they all hand off, so the writer group-commits them instead of
            // this thread committing them one by one. (With the writer busy, callers hand off at
            // once, before suspending, as they always did.)
            arriving.incrementAndGet()
            try {
                yield()
            } catch (e: Throwable) {
                arriving.decrementAndGet()
                throw e
            }
            if (arriving.decrementAndGet() == 0) tryInline(command)?.let { return it.getOrThrow() }
        }
        queued.incrementAndGet()
        try {
            channel.send(command)
        } catch (e: Throwable) {
            queued.decrementAndGet()
            if (e is ClosedSendChannelException) throw IllegalStateException("Queue '$name' is closed")
            throw e
        }
        return awaitCommitted(command)
    }

    /**
     * Runs [command] as a group of its own (a [BareCommand] alone, outside any transaction) on the
     * calling thread, if the writer is idle and no command is queued; null when the caller must
     * hand off instead. Cancellation is checked once
     * the engine is owned, before the command starts: a cancelled caller never commits.
     */
    @OptIn(ExperimentalCoroutinesApi::class)
    private suspend fun <T> tryInline(command: WriteCommand<T>): Result<T>? {
        if (queued.get() != 0 || !owner.tryLock()) return null
        try {
            if (queued.get() != 0 || closed.get() || stopped) return null
            currentCoroutineContext().ensureActive()
            if (command is BareCommand<T>) runBare(command) else runGroup(listOf(command))
            inlineGroups++
        } finally {
            owner.unlock()
        }
        return runCatching { command.result.getCompleted() }
    }

    /**
     * Waits for [command]'s outcome. Cancelling the caller cancels the command at once, on the
     * cancelling thread, before the caller's dispatcher resumes it: a command still waiting in the
     * channel is then skipped by the writer. One the writer already took may still commit.
     */
    @OptIn(ExperimentalCoroutinesApi::class)
    private suspend fun <T> awaitCommitted(command: WriteCommand<T>): T = suspendCancellableCoroutine { caller ->
        caller.invokeOnCancellation { command.result.cancel() }
        command.result.invokeOnCompletion { failure ->
            if (failure == null) caller.resume(command.result.getCompleted()) else caller.resumeWithException(failure)
        }
    }

    @Suppress("NOTHING_TO_INLINE")
    private inline fun onOwnThread(interceptor: Any?): Boolean =
        interceptor != null && EVENT_LOOPS.get(interceptor.javaClass)

    fun checkOpen() {
        check(!closed.get()) { "Queue '$name' is closed" }
    }

    /**
     * Stops accepting commands, waits for the accepted ones to commit, releases the thread. Waits
     * even on an interrupted thread (and leaves its interrupt flag set): the caller releases the
     * connection next, which must never happen under a running writer.
     */
    fun close() {
        if (!closed.compareAndSet(false, true)) return
        channel.close()
        uninterruptibly { loop.join() }
        // An inline caller that took the engine before close() finishes its commit first
        // (lock() ignores interrupts, as the join above does).
        owner.lock()
        try {
            listOf(begin, commit).forEach { runCatching { it.close() } }
        } finally {
            owner.unlock()
        }
        scope.coroutineContext[Job]?.cancel()
        ownedExecutor?.shutdown()
    }

    private suspend fun run() {
        val batch = ArrayList<WriteCommand<*>>(maxBatch)
        var next: WriteCommand<*>? = null
        try {
            while (true) {
                val first = next ?: channel.receiveCatching().getOrNull() ?: break
                next = null
                if (first is BareCommand<*>) {
                    owned { runBare(first) }
                    queued.decrementAndGet()
                    continue
                }
                batch.add(first)
                while (batch.size < maxBatch) {
                    val command = channel.tryReceive().getOrNull() ?: break
                    if (command is BareCommand<*>) {
                        // Runs after this group, alone: never inside its transaction.
                        next = command
                        break
                    }
                    batch.add(command)
                }
                owned { runGroup(batch) }
                queued.addAndGet(-batch.size)
                batch.clear()
            }
        } catch (t: Throwable) {
            // The writer must never die silently: fail whoever is waiting, refuse later callers.
            val error = IllegalStateException("Queue '$name' writer stopped: $t", t)
            stopped = true
            channel.close(error)
            batch.forEach { it.result.completeExceptionally(error) }
            next?.result?.completeExceptionally(error)
            while (true) (channel.tryReceive().getOrNull() ?: break).result.completeExceptionally(error)
            throw t
        }
    }

    private inline fun owned(block: () -> Unit) {
        owner.lock()
        try {
            block()
        } finally {
            owner.unlock()
        }
    }

    private fun <T> runBare(command: BareCommand<T>) {
        if (!command.result.isActive) return
        val value = try {
            command.execute(connection)
        } catch (t: Throwable) {
            command.result.completeExceptionally(translate(t))
            return
        }
        command.onCommitted(value)
        command.result.complete(value)
    }

    private fun runGroup(batch: List<WriteCommand<*>>) {
        val live = batch.filter { it.result.isActive }
        if (live.isEmpty()) return
        val started = if (listeners.active) System.nanoTime() else NOT_TIMED
        try {
            begin.execute()
        } catch (t: Throwable) {
            rollBackAfterFailure()
            val error = translate(t)
            live.forEach { it.result.completeExceptionally(error) }
            return
        }
        val outcomes = arrayOfNulls<Result<Any?>>(live.size)
        try {
            hooks.begin(connection)
            for (i in live.indices) {
                outcomes[i] = try {
                    Result.success(live[i].execute(connection))
                } catch (rejected: CommandRejected) {
                    Result.failure(rejected.error)
                }
            }
            commit.execute()
        } catch (t: Throwable) {
            rollBackAfterFailure()
            hooks.rolledBack()
            if (live.size == 1) {
                live[0].result.completeExceptionally(translate(t))
            } else {
                // One bad command must not fail the others: run each in its own transaction.
                for (command in live) runGroup(listOf(command))
            }
            return
        }
        hooks.committed()
        if (started != NOT_TIMED) listeners.groupCommitted(live.size, System.nanoTime() - started)
        for (i in live.indices) complete(live[i], outcomes[i]!!)
        hooks.afterGroup()
    }

    private companion object {
        const val NOT_TIMED = Long.MIN_VALUE

        /**
         * Whether a dispatcher class is an event loop bound to the thread that started it, which
         * is what `runBlocking` installs: its thread waits for this call anyway. kotlinx.coroutines
         * keeps that class internal, so it is recognised by name; were it renamed, every caller
         * would hand off (slower, still correct), and WriteEngineInlineSpec would fail.
         */
        val EVENT_LOOPS = object : ClassValue<Boolean>() {
            override fun computeValue(type: Class<*>): Boolean =
                generateSequence(type) { it.superclass }.any { it.name == "kotlinx.coroutines.EventLoop" }
        }
    }

    /**
     * Leaves the connection outside any transaction with usable statements. SQLite may already
     * have rolled back by itself (SQLITE_FULL, SQLITE_IOERR), so a failing ROLLBACK is fine; and
     * sqlite-jdbc finalizes a prepared statement that failed with most error codes, so the
     * engine's own are prepared afresh and the hooks' [statements] are invalidated (prepared
     * again on their next use).
     */
    private fun rollBackAfterFailure() {
        runCatching { connection.createStatement().use { it.execute("ROLLBACK") } }
        statements.invalidate()
        runCatching {
            val fresh = connection.prepareStatement("BEGIN IMMEDIATE") to connection.prepareStatement("COMMIT")
            listOf(begin, commit).forEach { runCatching { it.close() } }
            begin = fresh.first
            commit = fresh.second
        }
    }

    @Suppress("UNCHECKED_CAST")
    private fun <T> complete(command: WriteCommand<T>, outcome: Result<Any?>) {
        outcome.fold(
            onSuccess = { value ->
                command.onCommitted(value as T)
                command.result.complete(value)
            },
            onFailure = { command.result.completeExceptionally(it) },
        )
    }
}
