package dev.spool.tasks

import dev.spool.tasks.internal.TaskSchema
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import java.nio.file.Path
import java.sql.DriverManager
import java.time.Instant
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * `stats()` reads counts kept by triggers instead of counting the tasks: after any sequence of
 * operations, made through two queue objects (two connections, as two processes would), its
 * depth must equal a `GROUP BY` over the table, and its oldest queued age the oldest queued task.
 * The filtered `list`, which probes the index per (type, state) and merges, must page exactly
 * what a filter over every task gives.
 */
class TaskDepthSpec : FunSpec({
    /** The truth, counted by a third connection: (type, state) -> count, and the oldest queued task's creation. */
    fun truth(path: Path): Pair<Map<String, Map<TaskState, Int>>, Long?> =
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            val depth = c.createStatement().use { s ->
                s.executeQuery("SELECT type, state, COUNT(*) FROM tasks GROUP BY type, state").use { rs ->
                    val map = HashMap<String, MutableMap<TaskState, Int>>()
                    while (rs.next()) map.getOrPut(rs.getString(1)) { HashMap() }[TaskState.valueOf(rs.getString(2))] = rs.getInt(3)
                    map
                }
            }
            val oldest = c.createStatement().use { s ->
                s.executeQuery("SELECT MIN(created_at) FROM tasks WHERE state = 'QUEUED'").use { rs ->
                    rs.next()
                    rs.getLong(1).takeUnless { rs.wasNull() }
                }
            }
            depth to oldest
        }

    suspend fun pageAll(q: TaskQueue, filter: TaskFilter): List<TaskId> {
        val seen = mutableListOf<TaskId>()
        var cursor: TaskId? = null
        do {
            val page = q.list(filter, cursor)
            (page.tasks.size <= filter.limit) shouldBe true
            seen += page.tasks.map { it.id }
            cursor = page.nextCursor
        } while (cursor != null)
        return seen
    }

    test("random operation sequences through two connections keep stats equal to a count of the tasks") {
        val types = listOf("email", "resize", "report")
        repeat(24) { seed ->
            val random = Random(seed)
            val clock = MutableClock()
            val path = tempTasksDb()
            val config = TaskQueueConfig(clock = clock, retryPolicy = RetryPolicy(base = 0.milliseconds, jitter = 0.0))
            TaskQueue.open(path, config).use { a ->
                TaskQueue.open(path, config).use { b ->
                    val queues = listOf(a, b)
                    val held = mutableListOf<TaskLease>()
                    var ids = 0L
                    repeat(60) { step ->
                        val q = queues[random.nextInt(2)]
                        val worker = "w${random.nextInt(3)}"
                        when (random.nextInt(12)) {
                            0, 1, 2 -> {
                                val key = if (random.nextInt(4) == 0) "k${random.nextInt(5)}" else null
                                val unique = if (random.nextBoolean()) UniquePolicy.KEEP else UniquePolicy.REPLACE
                                ids = maxOf(ids, q.enqueue(types.random(random), payload(step), maxAttempts = 2, idempotencyKey = key, unique = unique).value)
                            }
                            3, 4 -> held += q.claim(worker, limit = 1 + random.nextInt(3), leaseTtl = 5.seconds).map { it.lease!! }
                            5 -> held.removeRandom(random)?.let { q.complete(it) }
                            6 -> held.removeRandom(random)?.let { q.fail(it, "boom", retryable = random.nextBoolean()) }
                            7 -> held.removeRandom(random)?.let { q.release(it) }
                            8 -> if (ids > 0) q.cancel(TaskId(1 + random.nextLong(ids)))
                            9 -> if (ids > 0) q.requeue(TaskId(1 + random.nextLong(ids)))
                            10 -> {
                                clock.advance(random.nextInt(8).seconds)
                                q.sweep()
                            }
                            else -> if (random.nextBoolean()) q.unregisterWorker(worker) else q.purgeFinished(Instant.parse("2100-01-01T00:00:00Z"))
                        }
                        if (random.nextInt(3) == 0) clock.advance(1.seconds)
                        val (depth, oldest) = truth(path)
                        for (reader in queues) {
                            val stats = reader.stats()
                            stats.depth shouldBe depth
                            stats.oldestQueuedAge shouldBe oldest?.let { (clock.millis() - it).milliseconds }
                        }
                    }
                    val all = pageAll(a, TaskFilter(limit = 500))
                    val tasks = all.map { a.get(it)!! }
                    val filters = listOf(
                        TaskFilter(states = setOf(TaskState.QUEUED), limit = 3),
                        TaskFilter(states = setOf(TaskState.SUCCEEDED, TaskState.DEAD_LETTER), limit = 2),
                        TaskFilter(states = setOf(TaskState.LEASED, TaskState.CANCELLED), type = "email", limit = 4),
                        TaskFilter(type = "resize", limit = 1),
                        TaskFilter(limit = 5),
                    )
                    for (filter in filters) {
                        val expected = tasks.filter { (filter.states == null || it.state in filter.states!!) && (filter.type == null || it.type == filter.type) }
                        pageAll(b, filter) shouldContainExactly expected.map { it.id }
                    }
                }
            }
        }
    }

    test("a file of the previous schema version gets its counts once, when opened, and keeps them after") {
        val path = tempTasksDb()
        TaskQueue.open(path).use { q ->
            repeat(5) { q.enqueue("a", payload(it)) }
            repeat(3) { q.enqueue("b", payload(it)) }
            q.complete(q.claim("w", types = setOf("a")).single().lease!!)
        }
        // Back to version 2: no task_depth, no triggers.
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            c.createStatement().use { s ->
                listOf("task_depth_insert", "task_depth_update", "task_depth_delete").forEach { s.execute("DROP TRIGGER $it") }
                s.execute("DROP TABLE task_depth")
                s.execute("PRAGMA user_version = ${TaskSchema.VERSION_BASE + 2}")
            }
        }
        TaskQueue.open(path).use { q ->
            q.stats().depth shouldBe mapOf(
                "a" to mapOf(TaskState.QUEUED to 4, TaskState.SUCCEEDED to 1),
                "b" to mapOf(TaskState.QUEUED to 3),
            )
            q.claim("w", types = setOf("b"))
            q.stats().depth shouldBe truth(path).first
        }
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            c.createStatement().use { s -> s.executeQuery("PRAGMA user_version").use { it.next(); it.getInt(1) } } shouldBe TaskSchema.CURRENT
        }
    }

    test("purging finished tasks forgets the types that no longer have any") {
        val path = tempTasksDb()
        TaskQueue.open(path).use { q ->
            q.enqueue("gone", payload(1))
            q.enqueue("kept", payload(2))
            q.complete(q.claim("w", types = setOf("gone")).single().lease!!)
            q.purgeFinished(Instant.now().plusSeconds(60)) shouldBe 1
            q.stats().depth shouldBe mapOf("kept" to mapOf(TaskState.QUEUED to 1))
        }
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            c.createStatement().use { s -> s.executeQuery("SELECT COUNT(*) FROM task_depth").use { it.next(); it.getInt(1) } } shouldBe 1
        }
    }
})

private fun <T> MutableList<T>.removeRandom(random: Random): T? = if (isEmpty()) null else removeAt(random.nextInt(size))
