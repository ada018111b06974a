package dev.spool.tasks.postgres

import dev.spool.tasks.AckResult
import dev.spool.tasks.Recurrence
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.seconds

/**
 * Acks that arrive together are completed by one statement (the queue's group commit); each caller
 * still gets its own result, and refused acks are told why.
 */
class GroupedAcksSpec : FunSpec({
    test("concurrent completes from several workers each complete their own task, once, and log it") {
        PgQueue(poolSize = 8).use { pg ->
            val q = pg.queue
            runBlocking {
                repeat(96) { q.enqueue("t", """{"n":$it}""") }
                val claimed = (1..3).map { w -> async(Dispatchers.IO) { q.claim("w$w", limit = 32, leaseTtl = 60.seconds) } }.awaitAll()
                claimed.sumOf { it.size } shouldBe 96
                val results = claimed.flatten().map { task -> async(Dispatchers.IO) { q.complete(task.lease!!) } }.awaitAll()
                results.toSet() shouldBe setOf(AckResult.COMPLETED)
                q.stats().depth.getValue("t")[TaskState.SUCCEEDED] shouldBe 96
                val task = claimed[1].first()
                q.taskLog(task.id).map { it.to } shouldBe listOf(TaskState.QUEUED, TaskState.LEASED, TaskState.SUCCEEDED)
                q.taskLog(task.id).last().workerId shouldBe "w2"
            }
        }
    }

    test("in one burst of acks, a repeated ack and a stale worker's ack are refused while the valid ones complete") {
        PgQueue().use { pg ->
            val q = pg.queue
            runBlocking {
                repeat(3) { q.enqueue("t", """{"n":$it}""") }
                val tasks = q.claim("w1", limit = 3, leaseTtl = 60.seconds)
                val a = tasks[0].lease!!
                val b = tasks[1].lease!!
                val forged = dev.spool.tasks.TaskLease.of(tasks[2].id.value, "w2", tasks[2].lease!!.token)
                val results = listOf(a, a, b, forged).map { lease -> async(Dispatchers.IO) { q.complete(lease) } }.awaitAll()
                results shouldContainExactlyInAnyOrder listOf(AckResult.COMPLETED, AckResult.LEASE_LOST, AckResult.COMPLETED, AckResult.LEASE_LOST)
                results[2] shouldBe AckResult.COMPLETED
                results[3] shouldBe AckResult.LEASE_LOST
                q.get(tasks[2].id)!!.state shouldBe TaskState.LEASED
                q.complete(tasks[2].lease!!) shouldBe AckResult.COMPLETED
            }
        }
    }

    test("one burst of completes is counted in stats task by task and moves on the schedule of an occurrence among them") {
        PgQueue().use { pg ->
            val q = pg.queue
            runBlocking {
                val schedule = q.schedule("tick", "tick", "{}", Recurrence.Every(1.hours))
                repeat(31) { q.enqueue("t", """{"n":$it}""") }
                val tasks = q.claim("w1", limit = 32, leaseTtl = 60.seconds)
                tasks.size shouldBe 32
                val occurrence = tasks.single { it.type == "tick" }
                // Started on this one event loop, the completes form one group: one statement, one server time.
                tasks.map { task -> async { q.complete(task.lease!!) } }.awaitAll().toSet() shouldBe setOf(AckResult.COMPLETED)
                tasks.map { q.get(it.id)!!.updatedAt }.toSet().size shouldBe 1

                val stats = q.stats()
                stats.depth.getValue("t")[TaskState.SUCCEEDED] shouldBe 31
                stats.depth.getValue("tick")[TaskState.SUCCEEDED] shouldBe 1
                stats.succeeded shouldBe 32
                val counted = TestDatabase.sql { c ->
                    c.createStatement().executeQuery("SELECT type, state, count(*) FROM ${pg.schema}.tasks GROUP BY type, state").use { rs ->
                        buildMap<String, MutableMap<TaskState, Int>> {
                            while (rs.next()) getOrPut(rs.getString(1)) { mutableMapOf() }[TaskState.valueOf(rs.getString(2))] = rs.getInt(3)
                        }
                    }
                }
                stats.depth shouldBe counted

                val moved = q.schedules().single()
                moved.nextFireAt shouldBe schedule.nextFireAt!!.plusSeconds(3600)
                moved.pendingTaskId shouldNotBe occurrence.id
                q.get(moved.pendingTaskId!!)!!.state shouldBe TaskState.QUEUED
            }
        }
    }
})
