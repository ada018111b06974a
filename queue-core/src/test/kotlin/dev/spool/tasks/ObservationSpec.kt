package dev.spool.tasks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlin.time.Duration.Companion.seconds

class ObservationSpec : FunSpec({
    test("list filters by state and type and pages with a cursor") {
        withTasks { q ->
            val jobs = (1..25).map { q.enqueue("job", payload(it)) }
            q.enqueue("other", payload(0))
            q.claim("w", limit = 1, types = setOf("job"), strategy = ClaimStrategy.FIFO)
            val seen = mutableListOf<TaskId>()
            var cursor: TaskId? = null
            var pages = 0
            do {
                val page = q.list(TaskFilter(states = setOf(TaskState.QUEUED), type = "job", limit = 10), cursor)
                seen += page.tasks.map { it.id }
                cursor = page.nextCursor
                pages++
            } while (cursor != null)
            pages shouldBe 3
            seen shouldContainExactly jobs.drop(1)
        }
    }

    test("stats report depth by type and state, oldest age, outcomes and active workers") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = RetryPolicy(jitter = 0.0))) { q ->
            val a = q.enqueue("a", payload(1))
            clock.advance(10.seconds)
            val b = q.enqueue("a", payload(2))
            q.enqueue("b", payload(3))
            q.claim("w", limit = 1, strategy = ClaimStrategy.FIFO).single().id shouldBe a
            q.complete(a, "w")
            q.claim("w", limit = 1, strategy = ClaimStrategy.FIFO).single().id shouldBe b
            q.fail(b, "w", "x")
            clock.advance(5.seconds)
            val stats = q.stats()
            stats.depth shouldBe mapOf(
                "a" to mapOf(TaskState.SUCCEEDED to 1, TaskState.QUEUED to 1),
                "b" to mapOf(TaskState.QUEUED to 1),
            )
            stats.count(TaskState.QUEUED) shouldBe 2
            stats.oldestQueuedAge shouldBe 5.seconds
            stats.succeeded shouldBe 1
            stats.failed shouldBe 1
            stats.activeWorkers shouldBe 1
        }
    }

    test("stats are cached until the next write here or the TTL, whichever comes first") {
        val clock = MutableClock()
        val path = tempTasksDb()
        val config = TaskQueueConfig(clock = clock, statsTtl = 2.seconds)
        TaskQueue.open(path, config).use { q ->
            TaskQueue.open(path, config).use { otherProcess ->
                q.enqueue("job", payload(1))
                q.stats().count(TaskState.QUEUED) shouldBe 1
                otherProcess.enqueue("job", payload(2))
                q.stats().count(TaskState.QUEUED) shouldBe 1
                clock.advance(2.seconds)
                q.stats().count(TaskState.QUEUED) shouldBe 2
                q.enqueue("job", payload(3))
                q.stats().count(TaskState.QUEUED) shouldBe 3
            }
        }
    }

    test("the task log records every state change with its time, worker and error") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = RetryPolicy(base = 1.seconds, jitter = 0.0))) { q ->
            val id = q.enqueue("job", payload(1))
            val t0 = clock.now
            q.claim("w1")
            q.fail(id, "w1", "timeout")
            clock.advance(1.seconds)
            q.claim("w2")
            q.complete(id, "w2")
            q.taskLog(id).map { listOf(it.from, it.to, it.workerId, it.attempt, it.error, it.at) } shouldBe listOf(
                listOf(null, TaskState.QUEUED, null, 0, null, t0),
                listOf(TaskState.QUEUED, TaskState.LEASED, "w1", 1, null, t0),
                listOf(TaskState.LEASED, TaskState.QUEUED, "w1", 1, "timeout", t0),
                listOf(TaskState.QUEUED, TaskState.LEASED, "w2", 2, null, clock.now),
                listOf(TaskState.LEASED, TaskState.SUCCEEDED, "w2", 2, null, clock.now),
            )
            q.taskLog(TaskId(999)) shouldBe emptyList()
        }
    }

    test("the transitions flow emits committed state changes in order") {
        withTasks { q ->
            coroutineScope {
                val collected = async(start = CoroutineStart.UNDISPATCHED) { q.transitions.take(4).toList() }
                val id = q.enqueue("job", payload(1))
                q.claim("w")
                q.cancel(id)
                q.enqueue("job", payload(2))
                collected.await().map { it.to } shouldContainExactly
                    listOf(TaskState.QUEUED, TaskState.LEASED, TaskState.CANCELLED, TaskState.QUEUED)
                collected.await()[2].taskId shouldBe id
            }
        }
    }

    test("purging deletes only final tasks older than the cutoff, with their log") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock)) { q ->
            val done = q.enqueue("job", payload(1))
            val cancelled = q.enqueue("job", payload(2))
            val leased = q.enqueue("job", payload(3))
            val queued = q.enqueue("job", payload(4))
            q.claim("w", limit = 1, strategy = ClaimStrategy.FIFO)
            q.complete(done, "w")
            q.cancel(cancelled)
            q.claim("w", limit = 1, strategy = ClaimStrategy.FIFO).single().id shouldBe leased
            clock.advance(10.seconds)
            val recent = q.enqueue("job", payload(5))
            q.cancel(recent)
            q.purgeFinished(clock.now.minusSeconds(5)) shouldBe 2
            q.list().tasks.map { it.id } shouldContainExactly listOf(leased, queued, recent)
            q.taskLog(done) shouldBe emptyList()
            q.taskLog(queued).size shouldBe 1
        }
    }
})
