package dev.spool.tasks.postgres

import dev.spool.queue.CheckedThread
import dev.spool.queue.ChildJvm
import dev.spool.tasks.AckResult
import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.Recurrence
import dev.spool.tasks.TaskFilter
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeStrictlyIncreasing
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.runBlocking
import java.nio.file.Files
import java.time.Instant
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.seconds

/**
 * Recurring schedules with several hosts on the server's clock: three queue objects, each over its
 * own connection pool (as three hosts would be), define the same schedules at once and then race
 * to claim, complete, cancel and sweep them; then a second JVM ([ScheduleHostMain]) and this one
 * do the same. Each fire time is enqueued once and run once, no schedule ever has two unfinished
 * occurrences, and every occurrence lies on its schedule's grid. The schedules start an hour in
 * the past, so misfire handling decides the first occurrence and the race starts at once.
 */
class ScheduleHostsSpec : FunSpec({
    test("hosts racing on the same schedules enqueue and run each fire time once") {
        PgQueue(TaskQueueConfig(), poolSize = 4, listen = false).use { pg ->
            val pools = (2..3).map { TestDatabase.pool(4, "host$it") }
            val hosts = listOf(pg.queue) + pools.map { PostgresTaskQueue.open(it, PostgresTaskQueueConfig(pg.schema, listen = false)) }
            try {
                // Started an hour ago: the first occurrence of each is the latest missed fire time
                // (RUN_ONCE) or the next one ahead (SKIP), so the race starts at once.
                val start = Instant.now().minusSeconds(3600)
                val names = (1..12).map { "s$it" }
                val definers = hosts.mapIndexed { h, q ->
                    CheckedThread("define-$h") {
                        runBlocking {
                            for (name in names.shuffled()) {
                                val misfire = if (name.removePrefix("s").toInt() % 2 == 0) MisfirePolicy.SKIP else MisfirePolicy.RUN_ONCE
                                q.schedule(name, name, "{}", Recurrence.Every(1.seconds), misfire = misfire, startAt = start)
                            }
                        }
                    }
                }
                definers.forEach { it.join() }
                runBlocking {
                    val queued = hosts[0].list(TaskFilter(states = setOf(TaskState.QUEUED), limit = 100)).tasks
                    queued.map { it.type } shouldContainExactlyInAnyOrder names
                }

                val runs = java.util.concurrent.ConcurrentLinkedQueue<Pair<String, Instant>>()
                val deadline = System.nanoTime() + 4_000_000_000L
                val workers = hosts.mapIndexed { h, q ->
                    CheckedThread("host-$h") {
                        runBlocking {
                            var round = 0
                            while (System.nanoTime() < deadline) {
                                round++
                                for (task in q.claim("w$h", limit = 4, leaseTtl = 1.hours)) {
                                    // Mostly complete; now and then dead-letter or cancel: each still moves the schedule on.
                                    when (round % 7) {
                                        3 -> q.fail(task.lease!!, "boom", retryable = false)
                                        5 -> q.cancel(task.id)
                                        else -> if (q.complete(task.lease!!) == AckResult.COMPLETED) runs += task.type to task.runAfter
                                    }
                                }
                                if (round % 3 == 0) q.sweep()
                            }
                        }
                    }
                }
                workers.forEach { it.join() }

                checkOccurrences(pg.schema, names, start)
                // Run once: no fire time completed twice.
                runs.toList().groupingBy { it }.eachCount().filterValues { it > 1 } shouldBe emptyMap()
                runBlocking { hosts[0].schedules().map { it.name } shouldContainExactlyInAnyOrder names }
            } finally {
                hosts.drop(1).forEach { it.close() }
                pools.forEach { it.close() }
            }
        }
    }

    test("a second JVM and this one defining and running the same schedules enqueue each fire time once") {
        PgQueue(TaskQueueConfig(), poolSize = 4, listen = false).use { pg ->
            val start = Instant.now().minusSeconds(3600)
            val names = (1..8).map { "s$it" }
            val dir = Files.createTempDirectory("spool-schedules")
            ChildJvm(ScheduleHostMain::class, listOf(pg.schema, "child", names.size.toString(), start.toEpochMilli().toString()), dir).use { child ->
                val q = pg.queue
                runBlocking {
                    for (name in names.shuffled()) {
                        val misfire = if (name.removePrefix("s").toInt() % 2 == 0) MisfirePolicy.SKIP else MisfirePolicy.RUN_ONCE
                        q.schedule(name, name, "{}", Recurrence.Every(1.seconds), misfire = misfire, startAt = start)
                    }
                }
                child.awaitLine("READY")
                val deadline = System.nanoTime() + 4_000_000_000L
                runBlocking {
                    var round = 0
                    while (System.nanoTime() < deadline) {
                        round++
                        for (task in q.claim("parent", limit = 4, leaseTtl = 1.hours)) q.complete(task.lease!!)
                        if (round % 3 == 0) q.sweep()
                    }
                }
                child.send("stop")
                child.awaitLine("DONE")
            }
            checkOccurrences(pg.schema, names, start)
        }
    }
})

/**
 * Each schedule's occurrences in [schema]: strictly increasing fire times on the grid
 * `start + k seconds`, keyed by their fire time, and at most one unfinished.
 */
private fun checkOccurrences(schema: String, names: List<String>, start: Instant) {
    val occurrences = TestDatabase.sql { c ->
        c.createStatement().executeQuery("SELECT type, run_after, state, idempotency_key FROM $schema.tasks ORDER BY id").use { rs ->
            buildList { while (rs.next()) add(listOf(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4))) }
        }
    }
    for (name in names) {
        val mine = occurrences.filter { it[0] == name }
        val fires = mine.map { it[1] as Long }
        (fires.size >= 1) shouldBe true
        fires.shouldBeStrictlyIncreasing()
        fires.forEach { ((it - start.toEpochMilli()) % 1000L) shouldBe 0L }
        mine.forEach { it[3] shouldBe "schedule:$name:${it[1]}" }
        mine.count { it[2] == TaskState.QUEUED.name || it[2] == TaskState.LEASED.name } shouldBeLessThanOrEqual 1
    }
}
