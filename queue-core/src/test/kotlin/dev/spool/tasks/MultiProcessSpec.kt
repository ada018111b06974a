package dev.spool.tasks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/** Real child JVMs working one SQLite file, started with this test's own classpath. */
class MultiProcessSpec : FunSpec({
    fun child(vararg args: String): Process {
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        return ProcessBuilder(
            java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-cp", System.getProperty("java.class.path"),
            TaskProcessMain::class.java.name, *args,
        ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
    }

    test("two processes working one file never run the same task twice") {
        val dir = Files.createTempDirectory("spool-multiprocess")
        val db = dir.resolve("tasks.db")
        val ids = TaskQueue.open(db).use { q -> (1..400).map { q.enqueue("job", payload(it)).value } }
        val go = dir.resolve("go")
        val outputs = listOf(dir.resolve("a.txt"), dir.resolve("b.txt"))
        val children = listOf(child("work", db.toString(), "proc-a", outputs[0].toString(), go.toString()),
            child("work", db.toString(), "proc-b", outputs[1].toString(), go.toString()))
        try {
            children.forEach { it.inputReader().readLine() shouldBe "READY" }
            Files.createFile(go)
            children.forEach {
                it.waitFor(60, TimeUnit.SECONDS) shouldBe true
                it.exitValue() shouldBe 0
            }
        } finally {
            children.forEach { if (it.isAlive) it.destroyForcibly() }
        }
        val runs = outputs.map { out -> Files.readAllLines(out).map(String::toLong) }
        runs.flatten() shouldHaveSize 400
        runs.flatten().toSet() shouldBe ids.toSet()
        runs.forEach { it.size shouldBeGreaterThan 0 }
        TaskQueue.open(db).use { q ->
            val stats = q.stats()
            stats.count(TaskState.SUCCEEDED) shouldBe 400
            stats.failed shouldBe 0
            q.list(TaskFilter(limit = 400)).tasks.all { it.attempts == 1 } shouldBe true
        }
    }

    test("a killed process's tasks stay leased until the lease expires, then are reclaimed with the attempt counted") {
        val db = Files.createTempDirectory("spool-crash").resolve("tasks.db")
        val ids = TaskQueue.open(db).use { q -> (1..10).map { q.enqueue("job", payload(it)) } }
        val hanging = child("hang", db.toString(), "doomed", "4")
        val held = try {
            hanging.inputReader().readLine().split(" ").map { TaskId(it.toLong()) }
        } finally {
            hanging.destroyForcibly().waitFor(30, TimeUnit.SECONDS)
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
