package dev.spool.queue.internal

import dev.spool.engine.BareCommand
import dev.spool.engine.SqliteDatabase
import dev.spool.engine.TransactionHooks
import dev.spool.engine.execute
import dev.spool.queue.QueueConfig
import kotlinx.coroutines.flow.MutableStateFlow
import java.sql.Connection

/**
 * The offline queue's writer-side state and its [TransactionHooks]: the cached count, the
 * timestamps and what the open transaction did to the acknowledgement [ledger].
 *
 * Fields marked "writer" are touched only on the writer thread (or the opening thread before the
 * writer starts). The cached count exists twice: [txCount], the writer's view inside the open
 * transaction, and [committedCount], what callers see; [committed] copies one to the other.
 *
 * The count follows the file, not just this queue's writes: [begin] recounts when
 * `PRAGMA data_version` of the writer connection moved (another connection committed), and
 * `refresh` does the same between transactions, for readers that saw the file change. Every
 * recount reads the version and the count in one read transaction, so a commit by another
 * process cannot fall between them unnoticed.
 */
internal class QueueWriter(
    private val database: SqliteDatabase<Statements>,
    val config: QueueConfig,
    private val clock: () -> Long,
    val ledger: DeferredLedger,
) : TransactionHooks {
    /** The hooks' statements; renewed by the engine after any failed transaction. Writer. */
    val statements: Statements get() = database.statements

    var txCount = 0 // writer
    private var dataVersion = 0L // writer
    private var lastTimestamp = 0L // writer

    /** Published after each commit or recount: [dev.spool.queue.OfflineQueue.sizes]. */
    val sizes = MutableStateFlow(0)

    @Volatile var committedCount = 0
        private set

    /**
     * The owner's external `data_version` (see [SqliteDatabase.externalDataVersion]) as it stood
     * right after this writer's last commit, recorded only when no other connection had committed
     * since this writer last counted. A reader that sees this version knows the file changed only
     * by this queue's own writes, which the cached count already holds, and sends no refresh.
     */
    @Volatile var ownVersion = Long.MIN_VALUE
        private set

    /**
     * Acknowledgements deleted by the open transaction to make room (writer). They belong to the
     * transaction, not to the command that needed the room: they are forgotten from the ledger
     * when it commits, even if that command then refused itself.
     */
    private var ledgerAppliedInTx: Map<String, Long>? = null

    /**
     * EventIds whose rows were written by an earlier command of the open transaction (writer).
     * Their acknowledgements predate the new content, so the ledger must not delete them here;
     * the writing command drops those acknowledgements once it commits.
     */
    val rewrittenInTx = HashSet<String>()

    init {
        recount(database.writeConnection)
    }

    /**
     * Reads `data_version` and `COUNT(*)` in one read transaction and publishes the count.
     * Outside any transaction; writer thread (or the opening thread).
     */
    private fun recount(connection: Connection) {
        connection.execute("BEGIN DEFERRED")
        try {
            dataVersion = statements.dataVersion()
            publish(statements.count())
        } finally {
            runCatching { connection.execute("COMMIT") }
        }
    }

    private fun publish(count: Int) {
        committedCount = count
        txCount = count
        sizes.value = count
    }

    override fun begin(connection: Connection) {
        // Inside BEGIN IMMEDIATE: nobody else can commit until we do, so version and count agree.
        val version = statements.dataVersion()
        if (version != dataVersion) {
            // Another connection committed to this file: the cache may be stale.
            dataVersion = version
            publish(statements.count())
        }
        ledgerAppliedInTx = null
        rewrittenInTx.clear()
    }

    override fun committed() {
        committedCount = txCount
        sizes.value = txCount
        ledgerAppliedInTx?.let(ledger::forget)
        ledgerAppliedInTx = null
        recordOwnVersion()
    }

    /**
     * After a commit: reads the watch version first, then this writer's own `data_version`
     * (which only other connections move). If the latter has not moved since [begin], every
     * change the watch saw up to its read was ours. A commit by another connection after the
     * watch read moves the watch again, so it is never mistaken for ours. Costs two pragmas per
     * group, and nothing while nobody watches the count (the watch connection is not open).
     */
    private fun recordOwnVersion() {
        try {
            val watched = database.externalDataVersionIfOpen() ?: return
            if (statements.dataVersion() == dataVersion) ownVersion = watched
        } catch (_: java.sql.SQLException) {
            // No record: the next size() refreshes, which is only slower.
        }
    }

    override fun rolledBack() {
        txCount = committedCount
        ledgerAppliedInTx = null
        // The disk is the truth after any failure: re-read it now rather than trust the cache.
        runCatching { recount(database.writeConnection) }.onFailure { dataVersion = Long.MIN_VALUE }
    }

    /**
     * Between transactions, on the writer: recounts if another connection committed since this
     * writer last looked. Sent by readers whose own data-version check saw the file change.
     */
    inner class Refresh : BareCommand<Unit>() {
        override fun execute(connection: Connection) {
            if (statements.dataVersion() != dataVersion) recount(connection)
        }
    }

    /** Epoch milliseconds, never decreasing. Writer. */
    fun nextTimestamp(): Long {
        val now = clock()
        lastTimestamp = if (now > lastTimestamp) now else lastTimestamp
        return lastTimestamp
    }

    /**
     * Deletes the acknowledged rows when room is needed, before any unsynced row is evicted or a
     * strict cap refuses. At most once per transaction; see [ledgerAppliedInTx].
     */
    fun applyLedger() {
        if (ledgerAppliedInTx != null || ledger.isEmpty()) return
        val acks = ledgerSnapshot()
        ledgerAppliedInTx = acks
        txCount -= statements.deleteAcknowledged(acks)
    }

    /** The acknowledgements the open transaction may apply: none for rows it rewrote. */
    fun ledgerSnapshot(): Map<String, Long> {
        val acks = ledger.snapshot()
        return if (rewrittenInTx.isEmpty()) acks else acks.filterKeys { it !in rewrittenInTx }
    }
}
