package dev.spool.tasks.postgres

import dev.spool.tasks.TaskState
import dev.spool.tasks.postgres.internal.PgSchema
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.runBlocking

/**
 * Migrations keep what a schema holds: a queue whose tasks predate the counters (schema version 2)
 * reports them once migrated, and version 4's dropped indexes lose no task or log row.
 */
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

    test("migrating a version-3 schema drops two hot-path indexes and keeps every task and its log") {
        val schema = TestDatabase.newSchema()
        try {
            val id = TestDatabase.pool(2).use { pool ->
                TestDatabase.sql { c -> PgSchema(schema).migrate(c, target = 3) }
                val old = PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false))
                old.close()
                TestDatabase.sql { c ->
                    c.createStatement().use { s ->
                        s.executeQuery("SELECT count(*) FROM pg_indexes WHERE schemaname = '$schema' AND indexname IN ('tasks_leased', 'task_log_pkey')").use { rs ->
                            rs.next()
                            rs.getInt(1) shouldBe 0 // opening migrated it to the current version
                        }
                    }
                }
                TestDatabase.drop(schema)
                // Again, writing through a version-3 schema before the current version opens it.
                TestDatabase.sql { c -> PgSchema(schema).migrate(c, target = 3) }
                TestDatabase.sql { c ->
                    c.createStatement().use { s ->
                        s.execute(
                            "INSERT INTO $schema.tasks (type, payload, priority, state, run_after, max_attempts, created_at, updated_at) " +
                                "VALUES ('t', '{}', 0, 'QUEUED', 0, 5, 1, 1)",
                        )
                        s.execute("INSERT INTO $schema.task_log (task_id, type, at, from_state, to_state, worker_id, attempt) SELECT id, 't', 1, NULL, 'QUEUED', NULL, 0 FROM $schema.tasks")
                        s.executeQuery("SELECT id FROM $schema.tasks").use { rs -> rs.next(); rs.getLong(1) }
                    }
                }
            }
            TestDatabase.pool(2).use { pool ->
                PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false)).use { q ->
                    runBlocking {
                        val task = q.claim("w", limit = 1).single()
                        task.id.value shouldBe id
                        q.complete(task.lease!!) shouldBe dev.spool.tasks.AckResult.COMPLETED
                        q.taskLog(task.id).map { it.to } shouldBe listOf(TaskState.QUEUED, TaskState.LEASED, TaskState.SUCCEEDED)
                        q.stats().count(TaskState.SUCCEEDED) shouldBe 1
                    }
                }
            }
        } finally {
            TestDatabase.drop(schema)
        }
    }
})
