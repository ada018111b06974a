package dev.spool.tasks.postgres.internal

import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.TaskState

/**
 * Every statement of the PostgreSQL task queue, for one schema. Hot-path writes are one statement
 * each (data-modifying CTEs write the task and its `task_log` row together), so an autocommit call
 * is one round trip and one commit.
 *
 * Time is always [NOW], the server's clock; the worker host's clock is never stored or compared.
 */
internal class PgSql(val schema: String) {
    private val tasks = "$schema.tasks"
    private val log = "$schema.task_log"
    private val workers = "$schema.task_workers"
    private val counters = "$schema.task_counters"
    private val depth = "$schema.task_depth"

    /** The `NOTIFY` channel enqueues announce themselves on. */
    val channel: String = "spool_tasks_$schema"

    /**
     * ?1 type, ?2 payload, ?3 priority, ?4 runAfter (null: now), ?5 maxAttempts, ?6 idempotency key,
     * ?7 requires, ?8 notify payload prefix. Returns `id, created_at` when it inserted; no row when
     * the key was taken (then [findByKey]).
     */
    val enqueue: String = """
        WITH ins AS (
            INSERT INTO $tasks (type, payload, priority, state, run_after, max_attempts, idempotency_key, requires, created_at, updated_at)
            VALUES (?, ?, ?, '$QUEUED', coalesce(?, $NOW), ?, ?, ?::text[], $NOW, $NOW)
            ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id, type, created_at
        ), logged AS (
            INSERT INTO $log (task_id, type, at, from_state, to_state, worker_id, attempt)
            SELECT id, type, created_at, NULL, '$QUEUED', NULL, 0 FROM ins
        )
        SELECT id, created_at, pg_notify('$channel', ? || id || '|' || created_at || '|' || type) FROM ins
    """.trimIndent()

    val findByKey: String = "SELECT id FROM $tasks WHERE idempotency_key = ?"

    /** ?1 lock key. Serializes enqueues of one idempotency key across hosts until commit. */
    val lockKey: String = "SELECT pg_advisory_xact_lock(hashtext(?))"

    /** ?1 key. The key's holder, locked, with whether it finished and how long ago (server clock). */
    val holder: String = "SELECT id, type, state, lease_owner, lease_token, false AS valid, attempts, max_attempts, " +
        "$NOW - updated_at AS finished_for FROM $tasks WHERE idempotency_key = ? FOR UPDATE"

    /** ?1 id. A finished holder gives its key up. */
    val dropKey: String = "UPDATE $tasks SET idempotency_key = NULL WHERE id = ?"

    /**
     * The claim: one statement that registers the worker (see [claimWorker]), picks up to `limit`
     * eligible tasks with `FOR UPDATE SKIP LOCKED` (rows another claim holds are skipped, never
     * waited for), leases them with a fresh fencing token, and logs the transitions.
     *
     * Without [typed]: ?1 worker, ?2 capabilities, ?3 ttl ms, ?4 stale-worker timeout ms,
     * ?5 capabilities (requires ⊆), ?6 limit, ?7 worker, ?8 ttl ms. With [typed]: ?1 worker,
     * ?2 capabilities, ?3 ttl ms, ?4 stale-worker timeout ms, ?5 accepted types, ?6 capabilities,
     * ?7 limit per type, ?8 limit, ?9 worker, ?10 ttl ms.
     *
     * Typed claims probe the `(type, …) WHERE state = 'QUEUED'` indexes once per accepted type (a
     * `LATERAL` join over the type list), so each probe is an ordered index scan that stops after
     * `limit` rows; untyped claims scan `(priority, id)` or `(id)` the same way. Weighted random
     * draws an Efraimidis–Spirakis key per eligible task, `-ln(U) * (1 + priority)` with U in
     * (0, 1], and takes the smallest keys: it reads every eligible row, as documented on
     * [ClaimStrategy.WEIGHTED_RANDOM].
     *
     * The capability test is [REQUIRES_MET]: `requires = '{}' OR requires <@ capabilities`. The
     * first test is redundant (an empty set is contained in any), but the planner estimates it from
     * the column's statistics, whereas it guesses `<@` to pass a small fraction of rows. With that
     * guess it expected an ordered index walk to need many rows per claimed one, and preferred
     * reading every queued row and sorting them: at a few thousand queued tasks, ten times the
     * claim's work. The statement runs in a [ClaimFunction], under [CLAIM_SETTINGS], which keep
     * the ordered walk when the table has no statistics at all.
     */
    fun claim(strategy: ClaimStrategy, typed: Boolean): String {
        val key = if (strategy == ClaimStrategy.WEIGHTED_RANDOM) "-ln(1.0 - random()) * (1 + priority)" else "0"
        val inner = when (strategy) {
            ClaimStrategy.FIFO -> "id"
            ClaimStrategy.LIFO -> "id DESC"
            ClaimStrategy.PRIORITY -> "priority, id"
            ClaimStrategy.WEIGHTED_RANDOM -> "k"
        }
        // Typed FIFO and LIFO order by (created_at, id): the same order for tasks enqueued one after
        // another, and one that neither the primary key nor an untyped index can produce, so the
        // planner cannot trade the (type, created_at, id) probe for a walk over every queued id
        // filtering for the type (ruinous for a rare type). Tasks enqueued concurrently commit in
        // no defined order anyway.
        val typedInner = when (strategy) {
            ClaimStrategy.FIFO -> "created_at, id"
            ClaimStrategy.LIFO -> "created_at DESC, id DESC"
            else -> inner
        }
        val typedOuter = when (strategy) {
            ClaimStrategy.FIFO -> "c.created_at, c.id"
            ClaimStrategy.LIFO -> "c.created_at DESC, c.id DESC"
            else -> null
        }
        val outer = when (strategy) {
            ClaimStrategy.FIFO -> "c.id"
            ClaimStrategy.LIFO -> "c.id DESC"
            ClaimStrategy.PRIORITY -> "c.priority, c.id"
            ClaimStrategy.WEIGHTED_RANDOM -> "c.k"
        }
        val picked = if (typed) {
            """
            SELECT c.id FROM unnest(?::text[]) AS accepted(type)
            CROSS JOIN LATERAL (
                SELECT id, priority, created_at, $key AS k FROM $tasks
                WHERE type = accepted.type AND state = '$QUEUED' AND run_after <= $NOW AND $REQUIRES_MET
                ORDER BY $typedInner LIMIT ?
                FOR UPDATE SKIP LOCKED
            ) c
            ORDER BY ${typedOuter ?: outer} LIMIT ?
            """
        } else {
            """
            SELECT id FROM (
                SELECT id, priority, $key AS k FROM $tasks
                WHERE state = '$QUEUED' AND $UNTYPED AND run_after <= $NOW AND $REQUIRES_MET
                ORDER BY $inner LIMIT ?
                FOR UPDATE SKIP LOCKED
            ) c
            """
        }
        return """
            WITH ${claimWorker.replaceIndent("            ").trimStart()}, picked AS MATERIALIZED (
                $picked
            ), claimed AS (
                UPDATE $tasks t SET state = '$LEASED', lease_owner = ?, lease_expires_at = $NOW + ?,
                       lease_token = coalesce(t.lease_token, 0) + 1, attempts = t.attempts + 1, updated_at = $NOW
                WHERE t.id IN (SELECT id FROM picked)
                RETURNING t.*
            ), logged AS (
                INSERT INTO $log (task_id, type, at, from_state, to_state, worker_id, attempt)
                SELECT id, type, updated_at, '$QUEUED', '$LEASED', lease_owner, attempts FROM claimed
            )
            SELECT * FROM claimed
        """.trimIndent()
    }

    /**
     * The claim of [strategy] as a function of this schema ([ClaimFunction]): the [claim] statement
     * in a PL/pgSQL function that sets [CLAIM_SETTINGS] while it plans and runs. Its parameters:
     * worker, capabilities, ttl ms, stale-worker timeout ms, limit and, when [typed], the accepted
     * types.
     */
    fun claimFunction(strategy: ClaimStrategy, typed: Boolean): ClaimFunction {
        // The claim's placeholders, in order, as the function's parameters.
        val params = if (typed) listOf(1, 2, 3, 4, 6, 2, 5, 5, 1, 3) else listOf(1, 2, 3, 4, 2, 5, 1, 3)
        val statement = claim(strategy, typed)
        check(statement.count { it == '?' } == params.size) { "claim placeholders changed; update the function's parameters" }
        var next = 0
        val body = statement.replace(Regex("\\?")) { "$" + params[next++] }
        val settings = CLAIM_SETTINGS.joinToString(" ") { (name, value) -> "SET $name = $value" }
        val signature = "text, text[], bigint, bigint, integer" + if (typed) ", text[]" else ""
        val definition = "($signature) RETURNS SETOF $tasks LANGUAGE plpgsql VOLATILE $settings AS ${'$'}claim${'$'}\n" +
            "BEGIN\nRETURN QUERY\n$body;\nEND\n${'$'}claim${'$'}"
        val hash = java.security.MessageDigest.getInstance("SHA-256").digest(definition.toByteArray())
            .take(5).joinToString("") { "%02x".format(it) }
        val name = "claim_${strategy.name.lowercase()}${if (typed) "_typed" else ""}_$hash"
        val arguments = "?, ?::text[], ?, ?, ?" + if (typed) ", ?::text[]" else ""
        return ClaimFunction(
            strategy = strategy,
            typed = typed,
            name = name,
            create = "CREATE OR REPLACE FUNCTION $schema.$name$definition",
            call = "SELECT $TASK_COLUMNS FROM $schema.$name($arguments)",
        )
    }

    /** Every claim function this version of the queue calls. */
    val claimFunctions: List<ClaimFunction> by lazy {
        ClaimStrategy.entries.flatMap { strategy -> listOf(false, true).map { claimFunction(strategy, it) } }
    }

    private val upsertWorkerBody = """
        INSERT INTO $workers (worker_id, capabilities, lease_ttl_ms, started_at, last_heartbeat)
        VALUES (?, ?::text[], ?, $NOW, $NOW)
        ON CONFLICT (worker_id) DO UPDATE SET capabilities = EXCLUDED.capabilities,
            lease_ttl_ms = EXCLUDED.lease_ttl_ms, last_heartbeat = EXCLUDED.last_heartbeat
    """.trimIndent()

    /** ?1 worker, ?2 capabilities, ?3 ttl ms. Registers the worker, or refreshes its row. */
    val upsertWorker: String = upsertWorkerBody

    /**
     * The claim's registration of its worker (CTEs `me` and `worker`): ?1 worker, ?2 capabilities,
     * ?3 ttl ms, ?4 stale-worker timeout ms. Like [upsertWorker], except that a registered worker
     * with the same capabilities and TTL whose heartbeat is younger than a [REFRESH_DIVISOR]th of
     * the shorter of its TTL and the stale-worker timeout is left alone: no row is written, locked
     * or logged to the WAL, so a busy worker's claims do not rewrite its row every time.
     */
    private val claimWorker = """
        me AS (
            SELECT ?::text AS worker_id, ?::text[] AS capabilities, ?::bigint AS lease_ttl_ms, ?::bigint AS stale_ms, $NOW AS now
        ), worker AS (
            INSERT INTO $workers (worker_id, capabilities, lease_ttl_ms, started_at, last_heartbeat)
            SELECT worker_id, capabilities, lease_ttl_ms, now, now FROM me
            WHERE NOT EXISTS (
                SELECT 1 FROM $workers w
                WHERE w.worker_id = me.worker_id AND w.capabilities = me.capabilities AND w.lease_ttl_ms = me.lease_ttl_ms
                  AND w.last_heartbeat > me.now - least(me.lease_ttl_ms, me.stale_ms) / $REFRESH_DIVISOR
            )
            ON CONFLICT (worker_id) DO UPDATE SET capabilities = EXCLUDED.capabilities,
                lease_ttl_ms = EXCLUDED.lease_ttl_ms, last_heartbeat = EXCLUDED.last_heartbeat
        )
    """.trimIndent()

    /**
     * Completes a group of acks in one statement: ?1 task ids, ?2 their workers, ?3 their tokens
     * (arrays of equal length). Returns `id, type, attempts, updated_at, worker, token, idempotency_key`
     * of each ack that held a valid lease (the key tells a schedule's occurrence, whose schedule moves
     * on); the others are refused (see [leaseState]). Rows are updated in id order, the
     * order the caller sorts the arrays in.
     *
     * Each ack finds its row by the primary key (`ReadPlanSpec`, and `ClaimPlanSpec` without
     * statistics). The state and the owner are compared with `IS NOT DISTINCT FROM` (the same as
     * `=` here: both sides are set), which no index can serve, so the primary key is the only index
     * the planner can use: with `=` it preferred an index of leased rows (`tasks_leased`, up to
     * schema version 3, or the state prefix of `tasks_state_type_id`) whenever it guessed few rows
     * leased, and read every lease, and every dead index entry of past leases until vacuum, for
     * each group of acks. [heartbeat] is written the same way.
     */
    val complete: String = """
        WITH acks AS (
            SELECT * FROM unnest(?::bigint[], ?::text[], ?::bigint[]) AS a(id, worker, token)
        ), done AS (
            UPDATE $tasks t SET state = '$SUCCEEDED', lease_owner = NULL, lease_expires_at = NULL, updated_at = $NOW
            FROM acks a
            WHERE t.id = a.id AND t.state IS NOT DISTINCT FROM '$LEASED' AND t.lease_owner IS NOT DISTINCT FROM a.worker
              AND t.lease_token = a.token AND t.lease_expires_at > $NOW
            RETURNING t.id, t.type, t.attempts, t.updated_at, a.worker, a.token, t.idempotency_key
        ), logged AS (
            INSERT INTO $log (task_id, type, at, from_state, to_state, worker_id, attempt)
            SELECT id, type, updated_at, '$LEASED', '$SUCCEEDED', worker, attempts FROM done
        )
        SELECT id, type, attempts, updated_at, worker, token, idempotency_key FROM done
    """.trimIndent()

    /** ?1 id. The row an ack needs, locked for the rest of the transaction. */
    val leaseForUpdate: String =
        "SELECT id, type, state, lease_owner, lease_token, lease_expires_at > $NOW AS valid, attempts, max_attempts FROM $tasks WHERE id = ? FOR UPDATE"

    /** ?1 id. Why an ack was refused. */
    val leaseState: String = "SELECT state, lease_owner, lease_expires_at > $NOW AS valid FROM $tasks WHERE id = ?"

    /**
     * ?1 state, ?2 error (null keeps the last), ?3 delay ms (null keeps run_after), ?4 same delay,
     * ?5 attempts delta, ?6 id. Ends the lease. Returns `updated_at`.
     */
    val finish: String = """
        UPDATE $tasks SET state = ?, last_error = coalesce(?, last_error),
               run_after = CASE WHEN ?::bigint IS NULL THEN run_after ELSE $NOW + ?::bigint END,
               attempts = attempts + ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = $NOW
        WHERE id = ?
        RETURNING updated_at
    """.trimIndent()

    /** ?1 task, ?2 type, ?3 at, ?4 from, ?5 to, ?6 worker, ?7 attempt, ?8 error. */
    val insertLog: String =
        "INSERT INTO $log (task_id, type, at, from_state, to_state, worker_id, attempt, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

    /** ?1 name, ?2 delta. Adds to this backend's shard of the counter. */
    val addCounter: String = "INSERT INTO $counters AS c (name, shard, value) VALUES (?, $SHARD, ?) " +
        "ON CONFLICT (name, shard) DO UPDATE SET value = c.value + EXCLUDED.value"

    /**
     * ?1 worker, ?2 task ids, ?3 their tokens, ?4 worker. Records liveness and extends each listed
     * lease still valid by the worker's TTL, never shortening it; returns `id, lease_token` of those.
     */
    val heartbeat: String = """
        WITH w AS (
            UPDATE $workers SET last_heartbeat = $NOW WHERE worker_id = ? RETURNING lease_ttl_ms
        )
        UPDATE $tasks t SET lease_expires_at = greatest(t.lease_expires_at, $NOW + w.lease_ttl_ms)
        FROM w, unnest(?::bigint[], ?::bigint[]) AS l(id, token)
        WHERE t.id = l.id AND t.lease_token = l.token AND t.state IS NOT DISTINCT FROM '$LEASED'
          AND t.lease_owner IS NOT DISTINCT FROM ?
          AND t.lease_expires_at > $NOW
        RETURNING t.id, t.lease_token
    """.trimIndent()

    /** ?1 ttl ms, ?2 id, ?3 worker, ?4 token. Extends a valid lease, never shortening it. */
    val renew: String = """
        UPDATE $tasks SET lease_expires_at = greatest(lease_expires_at, $NOW + ?)
        WHERE id = ? AND state = '$LEASED' AND lease_owner = ? AND lease_token = ? AND lease_expires_at > $NOW
    """.trimIndent()

    /** ?1 stale timeout ms. Leased rows to sweep, skipping rows another host's sweep or ack holds. */
    val expired: String = """
        SELECT id, type, state, lease_owner, lease_token, lease_expires_at > $NOW AS valid, attempts, max_attempts FROM $tasks
        WHERE state = '$LEASED' AND (
            lease_expires_at <= $NOW
            OR lease_owner IN (SELECT worker_id FROM $workers WHERE last_heartbeat < $NOW - ?))
        ORDER BY id
        FOR UPDATE SKIP LOCKED
    """.trimIndent()

    /** ?1 stale timeout ms. */
    val deleteStaleWorkers: String = "DELETE FROM $workers WHERE last_heartbeat < $NOW - ?"

    /** ?1 worker. */
    val leasedBy: String =
        "SELECT id, type, state, lease_owner, lease_token, lease_expires_at > $NOW AS valid, attempts, max_attempts FROM $tasks WHERE state = '$LEASED' AND lease_owner = ? ORDER BY id FOR UPDATE"

    /** ?1 worker. */
    val deleteWorker: String = "DELETE FROM $workers WHERE worker_id = ?"

    /** ?1 before (epoch ms). Deletes final tasks and their log; counts purged successes. */
    val purge: String = """
        WITH gone AS (
            DELETE FROM $tasks WHERE state IN ($FINAL_STATES) AND updated_at < ? RETURNING id, state
        ), log_gone AS (
            DELETE FROM $log WHERE task_id IN (SELECT id FROM gone)
        ), counted AS (
            INSERT INTO $counters AS c (name, shard, value)
            SELECT '${PgSchema.COUNTER_PURGED_SUCCEEDED}', $SHARD, count(*) FROM gone WHERE state = '$SUCCEEDED'
            ON CONFLICT (name, shard) DO UPDATE SET value = c.value + EXCLUDED.value
        )
        SELECT count(*) FROM gone
    """.trimIndent()

    val get: String = "SELECT $TASK_COLUMNS FROM $tasks WHERE id = ?"

    /** ?1 cursor, ?2 limit. A page of every task: the primary key from the cursor on. */
    val list: String = "SELECT $TASK_COLUMNS FROM $tasks WHERE id > ? ORDER BY id LIMIT ?"

    /**
     * A filtered page: one `(state, type, id)` index probe per (state, type) pair, each stopping at
     * the limit, merged in id order; so a page costs O(pairs x log n) however rare the match. Each
     * probe is a range of row values, `(state, type, cursor) < (state, type, id) <= (state, type,
     * max)`, ordered by `(state, type, id)`: the same rows and order as `state = … AND type = … AND
     * id > cursor ORDER BY id`, but one that only `tasks_state_type_id` provides, so the planner
     * cannot trade it for a walk of the primary key filtering for a rare pair (as it does with
     * plain equalities, whose order it finds on the primary key).
     * With [typed]: ?1 type, ?2 states, ?3 cursor, ?4 limit, ?5 limit. Without, the pairs are the
     * types task_depth knows in ?1 states; ?2 cursor, ?3 limit, ?4 limit.
     */
    fun listFiltered(typed: Boolean): String {
        val pairs = if (typed) {
            "SELECT s AS k_state, ?::text AS k_type FROM unnest(?::text[]) s"
        } else {
            "SELECT DISTINCT state AS k_state, type AS k_type FROM $depth WHERE state = ANY(?::text[])"
        }
        return """
            SELECT $TASK_COLUMNS FROM ($pairs) k
            CROSS JOIN LATERAL (
                SELECT $TASK_COLUMNS FROM $tasks t
                WHERE (t.state, t.type, t.id) > (k.k_state, k.k_type, ?)
                  AND (t.state, t.type, t.id) <= (k.k_state, k.k_type, ${Long.MAX_VALUE})
                ORDER BY t.state, t.type, t.id LIMIT ?
            ) t
            ORDER BY id LIMIT ?
        """.trimIndent()
    }

    val taskLog: String =
        "SELECT task_id, type, at, from_state, to_state, worker_id, attempt, error FROM $log WHERE task_id = ? ORDER BY id"

    /** ?1 stale timeout ms. */
    val workersList: String =
        "SELECT worker_id, capabilities, lease_ttl_ms, last_heartbeat, last_heartbeat < $NOW - ? AS stale FROM $workers ORDER BY worker_id"

    /**
     * ?1 stale timeout ms. Depth by type and state summed over task_depth's shards, then (type NULL)
     * the oldest queued creation time (one probe of `tasks_queued_type_created` per queued type),
     * the active worker count, the counters and the server's now. Never reads the tasks table
     * beyond those probes.
     */
    val stats: String = """
        SELECT type, state, sum(n)::bigint FROM $depth GROUP BY type, state HAVING sum(n) <> 0
        UNION ALL
        SELECT NULL, '$OLDEST_KEY', min(o.created_at) FROM (
            SELECT type FROM $depth WHERE state = '$QUEUED' GROUP BY type HAVING sum(n) > 0
        ) q CROSS JOIN LATERAL (
            SELECT created_at FROM $tasks t WHERE t.state = '$QUEUED' AND t.type = q.type ORDER BY t.created_at LIMIT 1
        ) o
        UNION ALL
        SELECT NULL, '$WORKERS_KEY', count(*) FROM $workers WHERE last_heartbeat >= $NOW - ?
        UNION ALL
        SELECT NULL, name, sum(value)::bigint FROM $counters GROUP BY name
        UNION ALL
        SELECT NULL, '$NOW_KEY', $NOW
    """.trimIndent()

    companion object {
        /**
         * Set on a connection only by a queue opened with `serverClock = false` (tests with a
         * controllable clock): then [NOW] is that queue's [dev.spool.tasks.TaskQueueConfig.clock].
         */
        const val CLOCK_SETTING = "spool.now_ms"

        /**
         * Always true (priorities are 0 or more), but only untyped claims say it, and only the
         * untyped claim indexes require it: so a typed claim can never be planned on an untyped
         * index, where a rare type would mean walking the whole backlog to find a few rows.
         */
        const val UNTYPED = "priority >= 0"

        /**
         * The planner settings a claim runs with (the `SET` clauses of its [ClaimFunction]: they last
         * for the call only), so that a claim's plan never depends on the table's statistics.
         *
         * Without statistics (a new table, or a server with autovacuum off, where nothing analyzes
         * it), the planner guesses that a handful of rows pass the claim's filters, and then prefers
         * a bitmap scan of every queued row and a sort to an ordered index walk that stops at the
         * limit: measured here at 100,000 queued tasks, 80 ms a claim instead of under 1 ms, and it
         * grows with the backlog. A bitmap scan can never return rows in claim order, so turning it
         * off leaves the ordered walk as the cheap plan whatever the estimates. Sorts are not turned
         * off: the strategies that need one (weighted random, the merge of a typed claim's per-type
         * heads) would be costed at `disable_cost`, which then crosses `jit_above_cost` and makes
         * every claim compile its plan (170 ms here). JIT is off for the same reason: a claim is a
         * short statement, and a large guess of its cost must never make it pay for compilation.
         */
        val CLAIM_SETTINGS: List<Pair<String, String>> = listOf("enable_bitmapscan" to "off", "jit" to "off")

        /** A claimable task's requirements are among the claimer's capabilities (one parameter); see [claim]. */
        const val REQUIRES_MET = "(requires = '{}' OR requires <@ ?::text[])"

        /**
         * The database server's clock in epoch milliseconds, fixed for the statement
         * (`statement_timestamp()`, the start of the statement). A scalar subquery, so PostgreSQL
         * computes it once per statement (an InitPlan) instead of once per row it filters or writes.
         */
        const val NOW = "(SELECT coalesce(nullif(current_setting('$CLOCK_SETTING', true), '')::bigint, " +
            "(extract(epoch from statement_timestamp()) * 1000)::bigint))"


        /**
         * A claim refreshes its worker's heartbeat only once it is older than this fraction (1/n) of
         * the shorter of the worker's lease TTL and the stale-worker timeout.
         */
        const val REFRESH_DIVISOR = 10

        /** How many shards task_depth and task_counters have per key. */
        const val SHARDS = 32

        /** This backend's shard of task_depth and task_counters. */
        const val SHARD = "pg_backend_pid() % $SHARDS"

        const val WORKERS_KEY = "#workers"
        const val OLDEST_KEY = "#oldest"
        const val NOW_KEY = "#now"

        private val QUEUED = TaskState.QUEUED
        private val LEASED = TaskState.LEASED
        private val SUCCEEDED = TaskState.SUCCEEDED
        private val FINAL_STATES = TaskState.entries.filter { it.isFinal }.joinToString(", ") { "'$it'" }

        const val TASK_COLUMNS = "id, type, payload, priority, state, run_after, attempts, max_attempts, idempotency_key, " +
            "requires, lease_owner, lease_token, lease_expires_at, last_error, created_at, updated_at"
    }
}

/**
 * A claim statement installed as a function of the queue's schema, so it runs with its own planner
 * settings ([PgSql.CLAIM_SETTINGS]) in one round trip and one autocommit statement; the settings
 * are restored when the call returns, so the caller's connection is left as it was. [name] ends
 * with a hash of the definition: a version of Spool whose claim differs installs and calls its own
 * functions, and hosts of different versions on one schema never replace each other's.
 */
internal class ClaimFunction(
    val strategy: ClaimStrategy,
    val typed: Boolean,
    val name: String,
    val create: String,
    val call: String,
)
