package dev.spool.tasks.postgres

import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.postgres.internal.PgSql
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.runBlocking
import java.sql.Connection

/**
 * Claims run as functions of the queue's schema with their own planner settings
 * ([PgSql.CLAIM_SETTINGS]). Checked on the real path, through the queue: what a claim reads on a
 * table without statistics (the server's own counters), that the caller's connection keeps its
 * settings, and how the functions are installed.
 */
class ClaimFunctionSpec : FunSpec({
    /** Index entries read from the queue's `tasks` indexes other than the primary key, as the server counts them. */
    fun Connection.queuedIndexReads(schema: String): Long {
        // Statistics reach the shared counters when a backend goes idle; this one's go now.
        createStatement().use { it.execute("SELECT pg_stat_force_next_flush()") }
        return prepareStatement(
            "SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE schemaname = ? AND relname = 'tasks' AND indexrelname <> 'tasks_pkey'",
        ).use { s ->
            s.setString(1, schema)
            s.executeQuery().use { rs -> rs.next(); rs.getLong(1) }
        }
    }

    test("on a table never analyzed, a claim of 32 reads about 32 index entries, not the 100,000 queued tasks") {
        // One connection, so the claim and the counters are the same backend's.
        PgQueue(poolSize = 1, listen = false).use { q ->
            q.pool.connection.use { c ->
                c.createStatement().use { s ->
                    s.execute(
                        "INSERT INTO ${q.schema}.tasks (type, payload, priority, state, run_after, max_attempts, created_at, updated_at) " +
                            "SELECT 'bench', '{}', g % 10, 'QUEUED', 0, 3, g, g FROM generate_series(1, 100000) g",
                    )
                    s.executeQuery("SELECT reltuples FROM pg_class WHERE oid = '${q.schema}.tasks'::regclass").use { rs ->
                        rs.next()
                        rs.getDouble(1) shouldBe -1.0 // no statistics: never analyzed, autovacuum off
                    }
                }
            }
            for (strategy in listOf(ClaimStrategy.PRIORITY, ClaimStrategy.FIFO)) {
                // Enough claims that the plan cache moves to a generic plan (after five custom ones).
                repeat(8) {
                    val before = q.pool.connection.use { it.queuedIndexReads(q.schema) }
                    val claimed = runBlocking { q.queue.claim("w", limit = 32, strategy = strategy) }
                    claimed.size shouldBe 32
                    val read = q.pool.connection.use { it.queuedIndexReads(q.schema) } - before
                    // The ordered walk reads the 32 it claims (plus entries of rows earlier claims
                    // left behind, until vacuum); a bitmap scan of the backlog reads all 100,000.
                    read.toInt() shouldBeLessThan 1_000
                }
            }
        }
    }

    test("a claim leaves the connection's planner settings as they were") {
        PgQueue(poolSize = 1, listen = false).use { q ->
            fun settings() = q.pool.connection.use { c ->
                PgSql.CLAIM_SETTINGS.map { (name, _) ->
                    c.createStatement().use { s -> s.executeQuery("SHOW $name").use { rs -> rs.next(); rs.getString(1) } }
                }
            }
            val before = settings()
            before.first() shouldBe "on" // bitmap scans, as the server configures them
            runBlocking {
                q.queue.enqueue("t", "{}")
                q.queue.claim("w", limit = 1).size shouldBe 1
            }
            settings() shouldBe before
        }
    }

    test("each claim function is installed once, and functions of another version are left alone") {
        PgQueue(listen = false).use { q ->
            fun installed(): Map<String, Long> = TestDatabase.sql { c ->
                c.prepareStatement(
                    "SELECT p.proname, p.xmin::text::bigint FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace " +
                        "WHERE n.nspname = ? AND p.proname LIKE 'claim\\_%'",
                ).use { s ->
                    s.setString(1, q.schema)
                    s.executeQuery().use { rs -> buildMap { while (rs.next()) put(rs.getString(1), rs.getLong(2)) } }
                }
            }
            val expected = PgSql(q.schema).claimFunctions.map { it.name }
            expected.size shouldBe ClaimStrategy.entries.size * 2
            val first = installed()
            first.keys shouldBe expected.toSet()

            // Another version's claim function, with another hash, as a host of that version installs it.
            TestDatabase.sql { c ->
                c.createStatement().use {
                    it.execute("CREATE FUNCTION ${q.schema}.claim_priority_0000000000() RETURNS integer LANGUAGE sql AS 'SELECT 1'")
                }
            }
            PostgresTaskQueue.open(q.pool, PostgresTaskQueueConfig(q.schema, listen = false)).close()
            val second = installed()
            second.keys shouldContainAll expected + "claim_priority_0000000000"
            // Not created again: the same catalog row versions.
            expected.forEach { name -> second[name] shouldBe first[name] }
        }
    }
})
