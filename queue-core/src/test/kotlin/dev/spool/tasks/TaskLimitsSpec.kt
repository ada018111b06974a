package dev.spool.tasks

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import java.time.Instant
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/** TaskQueue refuses oversized and unstorable input on the caller's thread, naming the field. */
class TaskLimitsSpec : FunSpec({
    /** Runs [block], expecting a refusal of [field]. */
    suspend fun refused(field: String, block: suspend () -> Unit) {
        val e = shouldThrow<InvalidTaskArgumentException> { block() }
        e.field shouldBe field
        e.message shouldStartWith field
    }

    test("a payload is limited in UTF-8 bytes by maxPayloadBytes, not in characters") {
        withTasks(TaskQueueConfig(maxPayloadBytes = 16)) { q ->
            q.enqueue("t", """{"s":"01234567"}""") // 16 bytes
            refused("payload") { q.enqueue("t", """{"s":"éééééé"}""") } // 14 characters, 20 bytes
            q.stats().count(TaskState.QUEUED) shouldBe 1
        }
        TaskQueueConfig().maxPayloadBytes shouldBe 1_048_576
        TaskQueueConfig.builder().maxPayloadBytes(10).build().maxPayloadBytes shouldBe 10
        shouldThrow<IllegalArgumentException> { TaskQueueConfig(maxPayloadBytes = 0) }.message shouldStartWith "maxPayloadBytes"
    }

    test("keys, worker ids, types and capabilities are bounded, each refusal naming its field") {
        withTasks { q ->
            q.enqueue("t", "{}", idempotencyKey = "k".repeat(256))
            refused("idempotencyKey") { q.enqueue("t", "{}", idempotencyKey = "k".repeat(257)) }
            refused("type") { q.enqueue("t".repeat(201), "{}") }
            refused("requires") { q.enqueue("t", "{}", requires = setOf("c".repeat(201))) }
            refused("requires") { q.enqueue("t", "{}", requires = (0..100).map { "c$it" }.toSet()) }
            q.enqueue("t", "{}", requires = (0 until 100).map { "c$it" }.toSet())

            q.claim("w".repeat(256), capabilities = (0 until 100).map { "c$it" }.toSet()).size shouldBe 1
            refused("workerId") { q.claim("w".repeat(257)) }
            refused("workerId") { q.registerWorker("w".repeat(257), emptySet(), kotlin.time.Duration.parse("1s")) }
            refused("capabilities") { q.claim("w", capabilities = setOf("c".repeat(201))) }
            refused("capabilities") { q.registerWorker("w", (0..100).map { "c$it" }.toSet(), kotlin.time.Duration.parse("1s")) }
            refused("types") { q.claim("w", types = setOf("t".repeat(201))) }
            refused("types") { q.claim("w", types = (0..100).map { "t$it" }.toSet()) }
            q.stats().count(TaskState.QUEUED) shouldBe 1
        }
    }

    test("runAfter = Instant.MAX and purgeFinished(Instant.MIN) are refused on the caller's thread") {
        withTasks { q ->
            refused("runAfter") { q.enqueue("t", "{}", runAfter = Instant.MAX) }
            refused("runAfter") { q.enqueue("t", "{}", runAfter = Instant.MIN) }
            refused("before") { q.purgeFinished(Instant.MIN) }
            refused("before") { q.purgeFinished(Instant.MAX) }
            val last = Instant.ofEpochMilli(Long.MAX_VALUE)
            val id = q.enqueue("t", "{}", runAfter = last)
            q.get(id)!!.runAfter shouldBe last
            q.purgeFinished(Instant.ofEpochMilli(Long.MIN_VALUE)) shouldBe 0
        }
    }

    test("a refused instant does not roll back the other writes waiting for the same group") {
        val writer = Executors.newSingleThreadExecutor()
        try {
            val gate = CountDownLatch(1)
            withTasks(TaskQueueConfig(writerDispatcher = writer.asCoroutineDispatcher())) { q ->
                q.enqueue("t", "{}") // the writer is running
                val held = writer.submit { gate.await(30, TimeUnit.SECONDS) } // no group can commit until released
                val ids = coroutineScope {
                    // UNDISPATCHED: each call runs until it waits for its commit, so all of them are
                    // in the writer's buffer before the writer may take the next group.
                    val good = (1..5).map { n -> async(start = CoroutineStart.UNDISPATCHED) { q.enqueue("t", payload(n)) } }
                    val bad = async(start = CoroutineStart.UNDISPATCHED) { runCatching { q.enqueue("t", "{}", runAfter = Instant.MAX) } }
                    val purge = async(start = CoroutineStart.UNDISPATCHED) { runCatching { q.purgeFinished(Instant.MIN) } }
                    gate.countDown()
                    (bad.await().exceptionOrNull() as InvalidTaskArgumentException).field shouldBe "runAfter"
                    (purge.await().exceptionOrNull() as InvalidTaskArgumentException).field shouldBe "before"
                    good.awaitAll()
                }
                held.get(30, TimeUnit.SECONDS)
                ids.map { q.get(it)!!.payload } shouldBe (1..5).map { payload(it) }
                q.stats().count(TaskState.QUEUED) shouldBe 6
            }
        } finally {
            writer.shutdownNow()
        }
    }
})
