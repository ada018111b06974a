package dev.spool.tasks

import dev.spool.queue.ChildJvm
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import java.nio.file.Path

/** Real child JVMs working one SQLite file, started with this test's own classpath. */
class MultiProcessSpec : FunSpec({
    fun child(dir: Path, vararg args: String) = ChildJvm(TaskProcessMain::class, args.toList(), dir)

    test("two processes working one file never run the same task twice") {
        val dir = Files.createTempDirectory("spool-multiprocess")
        val db = dir.resolve("tasks.db")
        val ids = TaskQueue.open(db).use { q -> (1..400).map { q.enqueue("job", payload(it)).value } }
        val outputs = listOf(dir.resolve("a.txt"), dir.resolve("b.txt"))
        val children = listOf(child(dir, "work", db.toString(), "proc-a", outputs[0].toString()),
            child(dir, "work", db.toString(), "proc-b", outputs[1].toString()))
        try {
            // Each process holds a task before either goes on: both got work, deterministically.
            val held = children.map { it.awaitLine("HOLDING ").removePrefix("HOLDING ").toLong() }
            held.toSet() shouldHaveSize 2
            children.forEach { it.send("go") }
            children.forEach { it.awaitExit() shouldBe 0 }
            val runs = outputs.map { out -> Files.readAllLines(out).map(String::toLong) }
            runs.flatten() shouldHaveSize 400
            runs.flatten().toSet() shouldBe ids.toSet()
            runs.zip(held).forEach { (run, first) -> run.first() shouldBe first }
        } finally {
            children.forEach { it.close() }
        }
        TaskQueue.open(db).use { q ->
            val stats = q.stats()
            // The counts were kept by the children's transactions (triggers), not recounted here.
            stats.depth shouldBe mapOf("job" to mapOf(TaskState.SUCCEEDED to 400))
            stats.count(TaskState.SUCCEEDED) shouldBe 400
            stats.failed shouldBe 0
            q.list(TaskFilter(limit = 400)).tasks.all { it.attempts == 1 } shouldBe true
        }
    }

    test("a killed process's tasks stay leased until the lease expires, then are reclaimed with the attempt counted") {
        val db = Files.createTempDirectory("spool-crash").resolve("tasks.db")
        val ids = TaskQueue.open(db).use { q -> (1..10).map { q.enqueue("job", payload(it)) } }
        val hanging = child(db.parent, "hang", db.toString(), "doomed", "4")
        val held = try {
            hanging.readLine().split(" ").map { TaskId(it.toLong()) }
        } finally {
            hanging.kill()
        }
        held shouldBe ids.take(4)
        val clock = MutableClock(java.time.Instant.now())
        TaskQueue.open(db, TaskQueueConfig(clock = clock, retryPolicy = RetryPolicy(jitter = 0.0, base = kotlin.time.Duration.ZERO))).use { q ->
            // The leases are valid: no one else gets these tasks, even though their worker is dead.
            q.claim("survivor", limit = 10).map { it.id }.toSet() shouldBe ids.drop(4).toSet()
            q.sweep().requeued shouldBe 0
            clock.advance(kotlin.time.Duration.parse("61s"))
            q.sweep().requeued shouldBe 4 + 6
            val again = q.claim("survivor", limit = 10, strategy = ClaimStrategy.FIFO)
            again.filter { it.id in held }.map { it.attempts } shouldBe listOf(2, 2, 2, 2)
            q.get(held.first())!!.lastError!!.contains("doomed") shouldBe true
        }
    }
})
