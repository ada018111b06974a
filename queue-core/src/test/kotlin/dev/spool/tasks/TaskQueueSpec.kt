package dev.spool.tasks

import dev.spool.queue.OfflineQueue
import dev.spool.storage.QueueStorageException
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlin.time.Duration.Companion.seconds

class TaskQueueSpec : FunSpec({
    test("enqueue stores a queued task with its fields") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock)) { q ->
            val id = q.enqueue("render", payload(1), priority = 7, maxAttempts = 3, requires = setOf("gpu"))
            val task = q.get(id)!!
            task.state shouldBe TaskState.QUEUED
            task.type shouldBe "render"
            task.payload shouldBe payload(1)
            task.priority shouldBe 7
            task.maxAttempts shouldBe 3
            task.attempts shouldBe 0
            task.requires shouldBe setOf("gpu")
            task.runAfter shouldBe clock.now
            task.createdAt shouldBe clock.now
        }
    }

    test("an idempotency key used again returns the existing task and adds nothing") {
        withTasks { q ->
            val first = q.enqueue("download", payload(1), idempotencyKey = "file-42")
            val second = q.enqueue("download", payload(2), idempotencyKey = "file-42")
            second shouldBe first
            q.get(first)!!.payload shouldBe payload(1)
            q.list().tasks shouldHaveSize 1
        }
    }

    test("concurrent enqueues with one key from two queues on one file make exactly one task") {
        val path = tempTasksDb()
        TaskQueue.open(path).use { a ->
            TaskQueue.open(path).use { b ->
                val ids = coroutineScope {
                    (0 until 64).map { n ->
                        async(Dispatchers.Default) { (if (n % 2 == 0) a else b).enqueue("job", payload(n), idempotencyKey = "same") }
                    }.awaitAll()
                }
                ids.toSet() shouldHaveSize 1
                a.list().tasks shouldHaveSize 1
            }
        }
    }

    test("bad input is refused with an IllegalArgumentException naming the field") {
        withTasks { q ->
            shouldThrow<IllegalArgumentException> { q.enqueue(" ", payload(1)) }.message shouldContain "type"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", "{not json") }.message shouldContain "payload"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", payload(1), priority = -1) }.message shouldContain "priority"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", payload(1), maxAttempts = 0) }.message shouldContain "maxAttempts"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", payload(1), idempotencyKey = "") }.message shouldContain "idempotencyKey"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", payload(1), requires = setOf("")) }.message shouldContain "requires"
            shouldThrow<IllegalArgumentException> { q.claim("w", limit = 0) }.message shouldContain "limit"
            shouldThrow<IllegalArgumentException> { q.claim("", limit = 1) }.message shouldContain "workerId"
            shouldThrow<IllegalArgumentException> { q.claim("w", leaseTtl = 0.seconds) }.message shouldContain "leaseTtl"
            q.list().tasks.shouldBeEmpty()
        }
    }

    test("claim returns exactly the tasks it leased and never hands one out twice") {
        withTasks { q ->
            val ids = (1..5).map { q.enqueue("job", payload(it)) }
            val first = q.claim("w1", limit = 3, strategy = ClaimStrategy.FIFO)
            first.map { it.id } shouldContainExactly ids.take(3)
            first.forEach {
                it.state shouldBe TaskState.LEASED
                it.leaseOwner shouldBe "w1"
                it.attempts shouldBe 1
            }
            val second = q.claim("w1", limit = 3, strategy = ClaimStrategy.FIFO)
            second.map { it.id } shouldContainExactly ids.drop(3)
            q.claim("w1", limit = 3).shouldBeEmpty()
        }
    }

    test("concurrent batch claims from two queues on one file split the tasks without overlap") {
        val path = tempTasksDb()
        TaskQueue.open(path).use { a ->
            TaskQueue.open(path).use { b ->
                val ids = (1..300).map { a.enqueue("job", payload(it)) }
                val claimed = coroutineScope {
                    listOf(a to "wa", b to "wb", a to "wc", b to "wd").map { (q, worker) ->
                        async(Dispatchers.Default) {
                            buildList {
                                while (true) {
                                    val batch = q.claim(worker, limit = 7, strategy = ClaimStrategy.WEIGHTED_RANDOM)
                                    if (batch.isEmpty()) break
                                    batch.forEach { add(it.id) }
                                }
                            }
                        }
                    }.awaitAll().flatten()
                }
                claimed shouldHaveSize 300
                claimed.toSet() shouldBe ids.toSet()
            }
        }
    }

    test("claim skips tasks whose runAfter has not passed") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock)) { q ->
            val later = q.enqueue("job", payload(1), runAfter = clock.now.plusSeconds(60))
            val now = q.enqueue("job", payload(2))
            q.claim("w", limit = 10).map { it.id } shouldContainExactly listOf(now)
            clock.advance(60.seconds)
            q.claim("w", limit = 10).map { it.id } shouldContainExactly listOf(later)
        }
    }

    test("claim takes only tasks whose requires are a subset of the capabilities") {
        withTasks { q ->
            val none = q.enqueue("job", payload(1))
            val gpu = q.enqueue("job", payload(2), requires = setOf("gpu"))
            val both = q.enqueue("job", payload(3), requires = setOf("gpu", "ssd"))
            q.claim("cpu-only", capabilities = emptySet(), limit = 10).map { it.id } shouldContainExactly listOf(none)
            q.claim("gpu-box", capabilities = setOf("gpu", "net"), limit = 10).map { it.id } shouldContainExactly listOf(gpu)
            q.claim("full", capabilities = setOf("ssd", "gpu"), limit = 10).map { it.id } shouldContainExactly listOf(both)
        }
    }

    test("claim takes only the given types, leaving others queued and uncounted") {
        withTasks { q ->
            val known = q.enqueue("known", payload(1))
            val unknown = q.enqueue("unknown", payload(2))
            q.claim("w", limit = 10, types = setOf("known")).map { it.id } shouldContainExactly listOf(known)
            q.get(unknown)!!.state shouldBe TaskState.QUEUED
            q.get(unknown)!!.attempts shouldBe 0
        }
    }

    test("FIFO, LIFO and PRIORITY order the claimed tasks") {
        withTasks { q ->
            val a = q.enqueue("job", payload(1), priority = 5)
            val b = q.enqueue("job", payload(2), priority = 1)
            val c = q.enqueue("job", payload(3), priority = 5)
            val d = q.enqueue("job", payload(4), priority = 1)
            q.claim("w", limit = 2, strategy = ClaimStrategy.FIFO).map { it.id } shouldContainExactly listOf(a, b)
            q.unregisterWorker("w") shouldBe 2
            q.claim("w", limit = 2, strategy = ClaimStrategy.LIFO).map { it.id } shouldContainExactly listOf(d, c)
            q.unregisterWorker("w") shouldBe 2
            q.claim("w", limit = 4, strategy = ClaimStrategy.PRIORITY).map { it.id } shouldContainExactly listOf(b, d, a, c)
        }
    }

    test("a TaskQueue refuses an OfflineQueue file and an OfflineQueue refuses a task file") {
        val offline = tempTasksDb()
        OfflineQueue.open(offline).close()
        shouldThrow<QueueStorageException> { TaskQueue.open(offline) }.message shouldContain "OfflineQueue"
        val tasks = tempTasksDb()
        TaskQueue.open(tasks).close()
        shouldThrow<QueueStorageException> { OfflineQueue.open(tasks) }
    }

    test("requeue puts a dead-lettered task back in the queue with fresh attempts, and refuses any other state") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock)) { q ->
            val id = q.enqueue("mail", payload(1), maxAttempts = 1)
            val other = q.enqueue("mail", payload(2))
            q.claim("w", types = setOf("mail"), limit = 2).map { it.id } shouldContainExactly listOf(id, other)
            q.fail(id, "w", "smtp down") shouldBe AckResult.DEAD_LETTERED
            clock.advance(5.seconds)

            q.requeue(id) shouldBe true
            val task = q.get(id)!!
            task.state shouldBe TaskState.QUEUED
            task.attempts shouldBe 0
            task.runAfter shouldBe clock.now
            task.lastError shouldBe "smtp down"
            q.taskLog(id).last().let { it.from to it.to } shouldBe (TaskState.DEAD_LETTER to TaskState.QUEUED)
            q.claim("w2").single().id shouldBe id

            q.requeue(id) shouldBe false // leased now
            q.requeue(other) shouldBe false // leased, never dead
            q.requeue(TaskId(9_999)) shouldBe false
            q.blocking().requeue(9_999) shouldBe false
        }
    }

    test("tasks survive closing and reopening the file") {
        val path = tempTasksDb()
        val id = TaskQueue.open(path).use { it.enqueue("job", payload(1)) }
        TaskQueue.open(path).use { it.get(id)!!.state shouldBe TaskState.QUEUED }
    }

    test("use after close fails clearly and closing twice is harmless") {
        val q = TaskQueue.open(tempTasksDb())
        q.close()
        q.close()
        shouldThrow<IllegalStateException> { q.enqueue("job", payload(1)) }
        shouldThrow<IllegalStateException> { q.get(TaskId(1)) }
    }
})
