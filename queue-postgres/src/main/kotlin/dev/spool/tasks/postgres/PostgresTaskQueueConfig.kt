package dev.spool.tasks.postgres

import dev.spool.tasks.TaskQueueConfig

/**
 * How a [PostgresTaskQueue] behaves: the PostgreSQL schema its tables live in, whether idle
 * workers are woken by `LISTEN/NOTIFY`, and the [TaskQueueConfig] every backend shares.
 *
 * Of [queue], the retry policies, [TaskQueueConfig.staleWorkerTimeout],
 * [TaskQueueConfig.name], [TaskQueueConfig.random] and
 * [TaskQueueConfig.readDispatcher] (where the blocking JDBC calls run) apply.
 * [TaskQueueConfig.clock] does **not** by default: every stored time is read from the database
 * server's clock, so hosts with skewed clocks agree on when a lease expires (see [serverClock]). The SQLite-only settings (durability,
 * batching, busy timeout, writer dispatcher) are ignored; PostgreSQL commits every call on its own.
 *
 * @property schema the PostgreSQL schema holding this queue's tables: a lower-case SQL identifier
 *   of 1 to 48 characters (`[a-z_][a-z0-9_]*`). Several queues share a database by using
 *   different schemas; the schema is created on open if missing.
 * @property queue the backend-independent settings.
 * @property listen if true, the queue holds one extra connection that `LISTEN`s for enqueues by
 *   any host, so idle [dev.spool.tasks.TaskWorker]s claim within milliseconds; polling remains the
 *   fallback for a missed notification. False saves that connection.
 * @property serverClock true (the default and the only sensible production setting): every time is
 *   the database server's. False makes every time [TaskQueueConfig.clock]'s instead (the queue
 *   sets it on each borrowed connection for the call), for tests that drive a controllable clock;
 *   then the hosts' clocks must agree, as they must for the SQLite queue.
 * @throws IllegalArgumentException naming `schema` if it is not such an identifier.
 */
public class PostgresTaskQueueConfig @JvmOverloads constructor(
    public val schema: String = "spool",
    public val queue: TaskQueueConfig = TaskQueueConfig(),
    public val listen: Boolean = true,
    public val serverClock: Boolean = true,
) {
    init {
        require(SCHEMA_NAME.matches(schema)) {
            "schema must be a lower-case SQL identifier of 1 to $MAX_SCHEMA_LENGTH characters ([a-z_][a-z0-9_]*), was '$schema'"
        }
    }

    override fun toString(): String = "PostgresTaskQueueConfig(schema=$schema, listen=$listen, serverClock=$serverClock, queue=$queue)"

    private companion object {
        private const val MAX_SCHEMA_LENGTH = 48
        private val SCHEMA_NAME = Regex("[a-z_][a-z0-9_]{0,${MAX_SCHEMA_LENGTH - 1}}")
    }
}
