package dev.spool.tasks.postgres

import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.postgres.internal.PgSql
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.sql.Connection

/**
 * The claim's plan at a million queued tasks, read from `EXPLAIN`, never from a stopwatch: every
 * ordered strategy reads a partial index over queued rows in claim order and stops at `LIMIT`,
 * so a claim costs an index probe (O(log n)), not a scan or a sort of the backlog.
 */
class ClaimPlanSpec : FunSpec({
    val schema = TestDatabase.newSchema()
    lateinit var pool: com.zaxxer.hikari.HikariDataSource

    beforeSpec {
        pool = TestDatabase.pool(2)
        PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false)).close()
        pool.connection.use { c ->
            c.createStatement().use { s ->
                s.execute("SET synchronous_commit = off")
                // Load with the queue's own indexes dropped, then rebuild them from their definitions:
                // a bulk build is much faster than a million index insertions.
                val indexes = s.executeQuery(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '$schema' AND tablename = 'tasks' AND indexname <> 'tasks_pkey'",
                ).use { rs -> buildList { while (rs.next()) add(rs.getString(1) to rs.getString(2)) } }
                indexes.forEach { (name, _) -> s.execute("DROP INDEX $schema.$name") }
                s.execute(
                    """
                    INSERT INTO $schema.tasks (type, payload, priority, state, run_after, max_attempts, created_at, updated_at)
                    SELECT 'type' || (g % 8), '{}', g % 100, 'QUEUED', 0, 5, g / 10, g / 10 FROM generate_series(1, 1000000) g
                    """.trimIndent(),
                )
                indexes.forEach { (_, definition) -> s.execute(definition) }
                s.execute("ANALYZE $schema.tasks")
            }
        }
    }

    afterSpec {
        pool.close()
        TestDatabase.drop(schema)
    }

    fun Connection.plan(strategy: ClaimStrategy, types: List<String>?): String {
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
    }

    val expectedIndex = mapOf(
        ClaimStrategy.PRIORITY to ("tasks_queued_priority" to "tasks_queued_type_priority"),
        ClaimStrategy.FIFO to ("tasks_queued_id" to "tasks_queued_type_created"),
        ClaimStrategy.LIFO to ("tasks_queued_id" to "tasks_queued_type_created"),
    )

    for ((strategy, indexes) in expectedIndex) {
        test("an untyped $strategy claim walks ${indexes.first} and stops at its limit") {
            val plan = pool.connection.use { it.plan(strategy, types = null) }
            plan shouldContain "Index Scan${if (strategy == ClaimStrategy.LIFO) " Backward" else ""} using ${indexes.first}"
            plan shouldContain "LockRows"
            plan shouldNotContain "Seq Scan on tasks"
            plan shouldNotContain "Sort"
        }

        test("a $strategy claim limited to some types probes ${indexes.second} once per type") {
            val plan = pool.connection.use { it.plan(strategy, types = listOf("type1", "type5", "absent")) }
            plan shouldContain "using ${indexes.second}"
            plan shouldNotContain "Seq Scan on tasks"
            plan shouldNotContain "Bitmap"
            // The only sort merges the per-type heads (at most types x limit rows), above the scans.
            plan.lines().filter { "Sort" in it }.forEach { sortLine ->
                val depth = sortLine.indexOf("Sort")
                val scanDepth = plan.lines().first { "using ${indexes.second}" in it }.indexOf("->")
                (depth < scanDepth) shouldBe true
            }
        }
    }
})
