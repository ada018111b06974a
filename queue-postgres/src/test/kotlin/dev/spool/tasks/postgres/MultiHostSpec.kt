package dev.spool.tasks.postgres

import dev.spool.queue.ChildJvm
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import java.nio.file.Files

/**
 * Four worker JVMs against one PostgreSQL queue; two are killed with SIGKILL mid-run and two new
 * ones started. Every task ends SUCCEEDED exactly once, none is stranded, and a task ran more than
 * once only because an earlier claim lost its lease (each execution is a distinct claim, and the
 * one that completed is the task's last).
 *
 * `-Dspool.pg.multihost.tasks=N` sets the number of tasks (20,000 by default).
 */
class MultiHostSpec : FunSpec({
    val total = System.getProperty("spool.pg.multihost.tasks")?.toInt() ?: 20_000

    test("four worker hosts, two SIGKILLed and replaced, finish $total tasks exactly once") {
        val schema = TestDatabase.newSchema()
        val dir = Files.createTempDirectory("spool-multihost")
        TestDatabase.pool(2).use { pool ->
            PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false)).use { queue ->
                queue.enqueue("job", "{}") // through the API once, then in bulk
            }
        }
        try {
            TestDatabase.sql { c ->
                c.createStatement().use { s ->
                    s.execute("CREATE TABLE $schema.executions (task_id bigint NOT NULL, worker_id text NOT NULL, token bigint NOT NULL)")
                    s.execute(
                        """
                        WITH ins AS (
                            INSERT INTO $schema.tasks (type, payload, priority, state, run_after, max_attempts, created_at, updated_at)
                            SELECT 'job', '{"n":' || g || '}', 100, 'QUEUED', 0, 100, 0, 0 FROM generate_series(2, $total) g
                            RETURNING id
                        )
                        INSERT INTO $schema.task_log (task_id, type, at, to_state, attempt) SELECT id, 'job', 0, 'QUEUED', 0 FROM ins
                        """.trimIndent(),
                    )
                }
            }
            fun succeeded(): Int = TestDatabase.sql { c ->
                c.createStatement().executeQuery("SELECT count(*) FROM $schema.tasks WHERE state = 'SUCCEEDED'").use { it.next(); it.getInt(1) }
            }
            fun start(id: String) = ChildJvm(PgWorkerMain::class, listOf(schema, id), dir).also { it.awaitLine("READY") }

            val first = (1..4).map { start("host-$it") }
            val replacements = ArrayList<ChildJvm>()
            try {
                while (succeeded() < total / 4) Thread.sleep(50)
                first[0].kill()
                first[1].kill()
                replacements += start("host-5")
                replacements += start("host-6")
                val deadline = System.nanoTime() + 150_000_000_000L
                while (succeeded() < total && System.nanoTime() < deadline) Thread.sleep(200)
                (first.drop(2) + replacements).forEach { it.send("stop") }
                (first.drop(2) + replacements).forEach { it.awaitLine("STOPPED") }
            } finally {
                (first + replacements).forEach { it.close() }
            }

            TestDatabase.sql { c ->
                fun ints(query: String): List<Long> = c.createStatement().executeQuery(query).use { rs ->
                    buildList { while (rs.next()) add(rs.getLong(1)) }
                }
                ints("SELECT count(*) FROM $schema.tasks WHERE state <> '${TaskState.SUCCEEDED}'") shouldBe listOf(0L)
                ints("SELECT count(*) FROM $schema.tasks") shouldBe listOf(total.toLong())
                // Exactly one success per task in the log, by the task's last claim.
                ints(
                    """
                    SELECT t.id FROM $schema.tasks t
                    WHERE (SELECT count(*) FROM $schema.task_log l WHERE l.task_id = t.id AND l.to_state = 'SUCCEEDED') <> 1
                       OR (SELECT l.attempt FROM $schema.task_log l WHERE l.task_id = t.id AND l.to_state = 'SUCCEEDED') <> t.attempts
                    """.trimIndent(),
                ).shouldBeEmpty()
                // Every task ran; no claim ran twice; the completing claim ran.
                ints("SELECT t.id FROM $schema.tasks t WHERE NOT EXISTS (SELECT 1 FROM $schema.executions e WHERE e.task_id = t.id AND e.token = t.attempts)")
                    .shouldBeEmpty()
                ints("SELECT task_id FROM $schema.executions GROUP BY task_id, token HAVING count(*) > 1").shouldBeEmpty()
                // A second execution only after the earlier claim lost its lease (its ack was refused).
                ints(
                    """
                    SELECT e.task_id FROM $schema.executions e JOIN $schema.tasks t ON t.id = e.task_id
                    WHERE e.token < t.attempts AND NOT EXISTS (
                        SELECT 1 FROM $schema.task_log l
                        WHERE l.task_id = e.task_id AND l.attempt = e.token AND l.from_state = 'LEASED' AND l.to_state = 'QUEUED')
                    """.trimIndent(),
                ).shouldBeEmpty()
            }
        } finally {
            TestDatabase.drop(schema)
        }
    }
})
