package dev.spool.tasks.postgres

import dev.spool.storage.QueueStorageException
import dev.spool.tasks.BlockingTaskQueue
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.postgres.internal.RealPostgresTaskQueue
import javax.sql.DataSource

/**
 * Opens a [TaskQueue] whose tasks live in PostgreSQL, so worker processes on many hosts share one
 * queue. It is the same interface as the SQLite [TaskQueue.open]: [dev.spool.tasks.TaskWorker],
 * the Java facades, metrics and observation work unchanged, and moving from one host to many is
 * a change of the line that opens the queue.
 *
 * **Claims** are one statement each: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED
 * LIMIT n) RETURNING …`, for every [dev.spool.tasks.ClaimStrategy] (weighted random included,
 * with the SQLite backend's distribution) and with the type and capability filters in SQL.
 * Concurrent claimers on any host skip each other's rows instead of waiting, and partial indexes
 * over queued rows keep a claim an index probe at millions of queued tasks. Each claim statement is
 * installed as a PL/pgSQL function of the schema (`claim_<strategy>[_typed]_<hash>`) that turns
 * bitmap scans and JIT off for its own call: so a claim walks its index even where the table has
 * no planner statistics (a new table, or a server with autovacuum off), where the planner would
 * otherwise read and sort every queued task. Your connection's settings are left as they were.
 *
 * **Time** is the database server's clock (`statement_timestamp()`), for leases, `runAfter`,
 * backoff, heartbeats and the log: clock skew between worker hosts can neither expire nor stretch
 * a lease. [dev.spool.tasks.TaskQueueConfig.clock] is not used. A `runAfter` you pass is an
 * absolute instant and is compared with the server's clock. The time is taken once per statement
 * (`statement_timestamp()`), so every row one call writes carries the same instant.
 *
 * **Workers.** A claim registers its worker, as on SQLite, but a busy worker's claims refresh its
 * registry row only once its last heartbeat is older than a tenth of the shorter of the lease TTL
 * and [dev.spool.tasks.TaskQueueConfig.staleWorkerTimeout] (or its capabilities or TTL changed),
 * to spare a row write per claim. So [TaskQueue.workers] may show a worker's heartbeat up to that
 * much older than its last claim, and a worker that stopped claiming and heartbeating is found
 * stale up to that much sooner. Explicit heartbeats always refresh it.
 *
 * **Wake-ups.** Every enqueue sends `NOTIFY`; each open queue `LISTEN`s on one connection of its
 * own and passes enqueues from any host to [TaskQueue.transitions], so idle workers claim within
 * milliseconds. Workers still poll ([dev.spool.tasks.TaskWorkerConfig.pollInterval]), so a missed
 * notification (say, while the listening connection reconnects) only delays a claim.
 *
 * **Connections.** Each call borrows a connection from the [DataSource] for one statement or one
 * short transaction: give it a pool (HikariCP, or your application's). The queue never closes the
 * data source. A call that finds its connection lost (a server restart, `pg_terminate_backend`) is
 * repeated on a fresh connection when that is safe (reads, heartbeats, keyed enqueues, sweeps,
 * cancels) and otherwise fails with [QueueStorageException]; a transaction cut off is rolled back
 * by the server, so state is never half-written.
 *
 * **Schedules** behave as on SQLite ([TaskQueue.schedule]): at most one unfinished occurrence per
 * schedule, enqueued ahead with `runAfter` at its fire time and the key
 * `schedule:<name>:<fire time>`, fire times computed against the server's clock. With many hosts,
 * each fire time is enqueued once: a schedule's row is locked (`FOR UPDATE`) while it moves on and
 * the key is unique. Nothing polls for them: the host that completes, dead-letters or cancels an
 * occurrence enqueues the next one in a short transaction right after; if it dies in between, the
 * next [TaskQueue.sweep] on any host (every [dev.spool.tasks.TaskWorker] sweeps) enqueues it.
 *
 * **Stats** are O(1) in the number of tasks: triggers keep counts per type and state in the same
 * transaction as each change, spread over per-connection shards so that concurrent claims do not
 * contend on one counter row; [TaskQueue.stats] sums those and finds the oldest queued task with
 * one index probe per type. [TaskQueue.list] pages by state and type on an index as well.
 *
 * **Schema.** The tables live in [PostgresTaskQueueConfig.schema], created and migrated on open
 * (versions in `<schema>.spool_schema`, under an advisory lock, so hosts opening together migrate
 * once). Several queues share a database with different schemas. The queue's role needs to create
 * tables, functions and triggers in that schema.
 *
 * **Not** a replacement for the SQLite queue on one host: every call is a network round trip and
 * a commit on the server, so a single process is faster on a local file. Choose it when workers run
 * on more than one host, or the application already runs PostgreSQL.
 */
public object PostgresTaskQueue {
    /**
     * Opens the task queue in [PostgresTaskQueueConfig.schema] of the database behind
     * [dataSource], creating or migrating its tables first.
     *
     * **Threading.** Blocks the calling thread for the migration (a few statements); the returned
     * queue is safe for concurrent use, as [TaskQueue] documents. Its blocking JDBC calls run on
     * [dev.spool.tasks.TaskQueueConfig.readDispatcher].
     *
     * @throws QueueStorageException if the database cannot be reached, the schema holds tables that
     *   are not a Spool task queue, or its version is newer than this Spool understands.
     */
    @JvmStatic
    @JvmOverloads
    public fun open(dataSource: DataSource, config: PostgresTaskQueueConfig = PostgresTaskQueueConfig()): TaskQueue =
        RealPostgresTaskQueue.open(dataSource, config)

    /**
     * Opens the queue as [open] does and returns its blocking view, for Java callers.
     *
     * @throws QueueStorageException as [open] does.
     */
    @JvmStatic
    @JvmOverloads
    public fun openBlocking(dataSource: DataSource, config: PostgresTaskQueueConfig = PostgresTaskQueueConfig()): BlockingTaskQueue =
        open(dataSource, config).blocking()
}
