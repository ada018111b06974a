package dev.spool.tasks.postgres

import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.postgres.internal.PgSql
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.sql.Connection

/**
 * The claim's plan, read from `EXPLAIN`, never from a stopwatch: every ordered strategy reads a
 * partial index over queued rows in claim order and stops at `LIMIT`, so a claim costs an index
 * probe (O(log n)), not a scan or a sort of the backlog.
 *
 * Two tables: a million queued tasks with statistics, and 100,000 in a table never analyzed (a new
 * table, or a server with autovacuum off, as this one is), where the planner has only guesses; there
 * both the first (custom) plans and the generic plan a prepared statement settles on are checked.
 * Plans are taken under the claim function's settings ([PgSql.CLAIM_SETTINGS]), as the queue runs
 * its claims. Acks and heartbeats, which find leased rows by id, are checked without statistics
 * too (at 100,000 and at 3,000 tasks): they never read an index of leased rows.
 */
class ClaimPlanSpec : FunSpec({
    val analyzed = TestDatabase.newSchema()
    val unanalyzed = TestDatabase.newSchema()
    val smallUnanalyzed = TestDatabase.newSchema()
    lateinit var pool: com.zaxxer.hikari.HikariDataSource

    /**
     * Opens a queue in [schema] and fills it with [count] queued tasks of 8 types and 100 priorities:
     * in [bulk], with the indexes built after the rows (which also records the table's size in
     * `pg_class`); otherwise through the indexes, as a queue fills, leaving no statistics at all.
     */
    fun load(schema: String, count: Int, bulk: Boolean) {
        PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false)).close()
        pool.connection.use { c ->
            c.createStatement().use { s ->
                s.execute("SET synchronous_commit = off")
                // Load with the queue's own indexes dropped, then rebuild them from their definitions:
                // a bulk build is much faster than a million index insertions.
                val indexes = s.executeQuery(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '$schema' AND tablename = 'tasks' AND indexname <> 'tasks_pkey'",
                ).use { rs -> if (bulk) buildList { while (rs.next()) add(rs.getString(1) to rs.getString(2)) } else emptyList() }
                indexes.forEach { (name, _) -> s.execute("DROP INDEX $schema.$name") }
                s.execute(
                    """
                    INSERT INTO $schema.tasks (type, payload, priority, state, run_after, max_attempts, created_at, updated_at)
                    SELECT 'type' || (g % 8), '{}', g % 100, 'QUEUED', 0, 5, g / 10, g / 10 FROM generate_series(1, $count) g
                    """.trimIndent(),
                )
                indexes.forEach { (_, definition) -> s.execute(definition) }
                s.execute("RESET synchronous_commit")
            }
        }
    }

    beforeSpec {
        pool = TestDatabase.pool(2)
        load(analyzed, 1_000_000, bulk = true)
        pool.connection.use { c -> c.createStatement().use { it.execute("ANALYZE $analyzed.tasks") } }
        load(unanalyzed, 100_000, bulk = false)
        load(smallUnanalyzed, 3_000, bulk = false)
        pool.connection.use { c ->
            // A few leases among them, as a queue at work has.
            c.createStatement().use { it.execute("UPDATE $smallUnanalyzed.tasks SET state = 'LEASED', lease_owner = 'w', lease_token = 1 WHERE id % 30 = 0") }
        }
    }

    afterSpec {
        pool.close()
        TestDatabase.drop(analyzed)
        TestDatabase.drop(unanalyzed)
        TestDatabase.drop(smallUnanalyzed)
    }

    /**
     * The plan of a claim in [schema]: in a transaction that sets the claim function's settings
     * (unless not [asQueueRuns]) and, when [generic], makes the planner produce the generic plan.
     */
    fun Connection.plan(
        strategy: ClaimStrategy,
        types: List<String>?,
        schema: String = analyzed,
        generic: Boolean = false,
        asQueueRuns: Boolean = true,
    ): String {
        autoCommit = false
        try {
            createStatement().use { s ->
                if (asQueueRuns) PgSql.CLAIM_SETTINGS.forEach { (name, value) -> s.execute("SET LOCAL $name = $value") }
                if (generic) s.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            }
            val sql = PgSql(schema).claim(strategy, typed = types != null)
            return prepareStatement("EXPLAIN $sql").use { s ->
                var i = 0
                s.setString(++i, "w")
                s.setArray(++i, createArrayOf("text", emptyArray()))
                s.setLong(++i, 30_000)
                s.setLong(++i, 120_000)
                if (types != null) s.setArray(++i, createArrayOf("text", types.toTypedArray()))
                s.setArray(++i, createArrayOf("text", emptyArray()))
                s.setInt(++i, 32)
                if (types != null) s.setInt(++i, 32)
                s.setString(++i, "w")
                s.setLong(++i, 30_000)
                s.executeQuery().use { rs -> buildString { while (rs.next()) appendLine(rs.getString(1)) } }
            }
        } finally {
            rollback()
            autoCommit = true
        }
    }

    /** The untyped plan walks [index] to its limit: no scan, bitmap or sort of the backlog. */
    fun String.shouldWalk(index: String, backward: Boolean) {
        this shouldContain "Index Scan${if (backward) " Backward" else ""} using $index"
        this shouldContain "LockRows"
        this shouldNotContain "Seq Scan on tasks"
        this shouldNotContain "Bitmap"
        this shouldNotContain "Sort"
    }

    /** The typed plan probes [index] per type; its only sort merges the per-type heads, above the scans. */
    fun String.shouldProbe(index: String) {
        this shouldContain "using $index"
        this shouldNotContain "Seq Scan on tasks"
        this shouldNotContain "Bitmap"
        val scanDepth = lines().first { "using $index" in it }.indexOf("->")
        lines().filter { "Sort" in it }.forEach { sortLine -> (sortLine.indexOf("Sort") < scanDepth) shouldBe true }
    }

    val expectedIndex = mapOf(
        ClaimStrategy.PRIORITY to ("tasks_queued_priority" to "tasks_queued_type_priority"),
        ClaimStrategy.FIFO to ("tasks_queued_id" to "tasks_queued_type_created"),
        ClaimStrategy.LIFO to ("tasks_queued_id" to "tasks_queued_type_created"),
    )
    val someTypes = listOf("type1", "type5", "absent")

    for ((strategy, indexes) in expectedIndex) {
        val backward = strategy == ClaimStrategy.LIFO

        test("an untyped $strategy claim walks ${indexes.first} and stops at its limit") {
            pool.connection.use { it.plan(strategy, types = null) }.shouldWalk(indexes.first, backward)
        }

        test("a $strategy claim limited to some types probes ${indexes.second} once per type") {
            pool.connection.use { it.plan(strategy, types = someTypes) }.shouldProbe(indexes.second)
        }

        for (generic in listOf(false, true)) {
            val kind = if (generic) "generic" else "custom"

            test("without statistics, an untyped $strategy claim's $kind plan still walks ${indexes.first}") {
                pool.connection.use { it.plan(strategy, null, unanalyzed, generic) }.shouldWalk(indexes.first, backward)
            }

            test("without statistics, a typed $strategy claim's $kind plan still probes ${indexes.second}") {
                pool.connection.use { it.plan(strategy, someTypes, unanalyzed, generic) }.shouldProbe(indexes.second)
            }
        }
    }

    for (generic in listOf(false, true)) {
        for ((schema, rows) in listOf(unanalyzed to "100,000", smallUnanalyzed to "3,000")) {
            test("without statistics, acks and heartbeats at $rows tasks never read an index of leased rows (${if (generic) "generic" else "custom"} plan)") {
                val sql = PgSql(schema)
                pool.connection.use { c ->
                    fun explain(statement: String, bind: java.sql.PreparedStatement.() -> Unit): String {
                        c.createStatement().use { it.execute("SET plan_cache_mode = ${if (generic) "force_generic_plan" else "auto"}") }
                        return c.prepareStatement("EXPLAIN $statement").use { s ->
                            s.bind()
                            s.executeQuery().use { rs -> buildString { while (rs.next()) appendLine(rs.getString(1)) } }
                        }
                    }
                    val ids = c.createArrayOf("bigint", arrayOf<Long>(30, 60, 90))
                    val tokens = c.createArrayOf("bigint", arrayOf<Long>(1, 1, 1))
                    val plans = listOf(
                        explain(sql.complete) {
                            setArray(1, ids)
                            setArray(2, c.createArrayOf("text", arrayOf("w", "w", "w")))
                            setArray(3, tokens)
                        },
                        explain(sql.heartbeat) {
                            setString(1, "w")
                            setArray(2, ids)
                            setArray(3, tokens)
                            setString(4, "w")
                        },
                    )
                    for (plan in plans) {
                        // Reading the leased rows through the state's index also reads the dead
                        // entries every past lease left there, until vacuum: a cost that grows.
                        plan shouldNotContain "Bitmap"
                        plan shouldNotContain "tasks_state_type_id"
                        // Above a few thousand tasks, one primary-key probe per lease.
                        if (schema == unanalyzed) plan shouldContain "Index Scan using tasks_pkey on tasks"
                    }
                }
            }
        }
    }

    test("the table without statistics is what it claims to be: never analyzed, and planned badly without the claim settings") {
        TestDatabase.sql { c ->
            c.createStatement().use { s ->
                s.executeQuery("SELECT reltuples FROM pg_class WHERE oid = '$unanalyzed.tasks'::regclass").use { rs ->
                    rs.next()
                    rs.getDouble(1) shouldBe -1.0
                }
            }
        }
        // The control: with the server's own settings the planner guesses a handful of eligible
        // rows and reads and sorts every queued task instead of walking the index.
        val plain = pool.connection.use { it.plan(ClaimStrategy.PRIORITY, null, unanalyzed, generic = true, asQueueRuns = false) }
        plain shouldContain "Bitmap Heap Scan on tasks"
        plain shouldContain "Sort"
    }
})
