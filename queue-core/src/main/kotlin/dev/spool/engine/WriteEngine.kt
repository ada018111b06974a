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
import kotlinx.coroutines.launch
import kotlinx.coroutines.suspendCancellableCoroutine
import java.sql.Connection
import java.sql.PreparedStatement
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicBoolean
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
    // Re-prepared after a failure: sqlite-jdbc finalizes a statement that fails with anything but
    // BUSY, LOCKED, CONSTRAINT or MISUSE (see rollBackAfterFailure).
    private var begin: PreparedStatement = connection.prepareStatement("BEGIN IMMEDIATE")
    private var commit: PreparedStatement = connection.prepareStatement("COMMIT")
    private val loop: Job = scope.launch { run() }

    /** Instrumentation; empty unless a metrics binder attached itself. */
    val listeners: EngineListeners = EngineListeners()

    /** Sends [command] to the writer and suspends until its transaction committed. */
    suspend fun <T> submit(command: WriteCommand<T>): T {
        try {
            channel.send(command)
        } catch (e: ClosedSendChannelException) {
            throw IllegalStateException("Queue '$name' is closed")
        }
        return awaitCommitted(command)
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
        listOf(begin, commit).forEach { runCatching { it.close() } }
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
                    runBare(first)
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
                runGroup(batch)
                batch.clear()
            }
        } catch (t: Throwable) {
            // The writer must never die silently: fail whoever is waiting, refuse later callers.
            val error = IllegalStateException("Queue '$name' writer stopped: $t", t)
            channel.close(error)
            batch.forEach { it.result.completeExceptionally(error) }
            next?.result?.completeExceptionally(error)
            while (true) (channel.tryReceive().getOrNull() ?: break).result.completeExceptionally(error)
            throw t
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
