package dev.spool.tasks.postgres

import dev.spool.tasks.TaskState
import dev.spool.tasks.postgres.internal.PgSchema
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.runBlocking

/** A queue whose tasks predate the counters (schema version 2) reports them once migrated. */
class StatsMigrationSpec : FunSpec({
    test("migrating a version-2 schema counts the tasks already there") {
        val schema = TestDatabase.newSchema()
        try {
            TestDatabase.sql { c ->
                PgSchema(schema).migrate(c, target = 2)
                c.createStatement().use { s ->
                    s.execute(
                        """
                        INSERT INTO $schema.tasks (type, payload, priority, state, run_after, max_attempts, created_at, updated_at)
                        SELECT 'type' || (g % 3), '{}', 0, CASE WHEN g % 4 = 0 THEN 'SUCCEEDED' ELSE 'QUEUED' END, 0, 5, g, g
                        FROM generate_series(1, 1000) g
                        """.trimIndent(),
                    )
                }
            }
            TestDatabase.pool(2).use { pool ->
                PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false)).use { q ->
                    val stats = runBlocking { q.stats() }
                    stats.count(TaskState.QUEUED) shouldBe 750
                    stats.count(TaskState.SUCCEEDED) shouldBe 250
                    stats.depth.getValue("type0")[TaskState.SUCCEEDED] shouldBe 83
                    stats.succeeded shouldBe 250
                }
            }
        } finally {
            TestDatabase.drop(schema)
        }
    }
})
