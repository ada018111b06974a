package dev.spool.tasks

import dev.spool.queue.ChildJvm
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.nio.file.Files

/**
 * Two real processes keep one schedule on one file, against one fake clock: each fire time must
 * be enqueued exactly once, whichever process completes the previous occurrence or sweeps first.
 */
class ScheduleProcessSpec : FunSpec({
    test("two processes on one file enqueue each of 100 occurrences exactly once") {
        val dir = Files.createTempDirectory("spool-schedule-processes")
        val db = dir.resolve("tasks.db")
        val clockFile = dir.resolve("clock")
        val start = TaskProcessMain.SCHEDULE_START
        FileClock.set(clockFile, start)
        TaskQueue.open(db).close()
        ChildJvm(TaskProcessMain::class, listOf("schedule", db.toString(), "proc-a", clockFile.toString()), dir).use { a ->
            ChildJvm(TaskProcessMain::class, listOf("schedule", db.toString(), "proc-b", clockFile.toString()), dir).use { b ->
                a.awaitLine("READY")
                b.awaitLine("READY")
                repeat(100) { round ->
                    FileClock.set(clockFile, start.plusSeconds(60L * round))
                    // Both processes race: sweep, claim, complete and sweep again, at the same fake time.
                    a.send("round")
                    b.send("round")
                    a.awaitLine("DONE")
                    b.awaitLine("DONE")
                }
                a.send("quit")
                b.send("quit")
                a.awaitExit() shouldBe 0
                b.awaitExit() shouldBe 0
            }
        }
        TaskQueue.open(db).use { q ->
            val ticks = q.list(TaskFilter(type = "tick", limit = 1000)).tasks
            ticks.map { it.runAfter }.sorted() shouldBe (0..100).map { start.plusSeconds(60L * it) }
            ticks.count { it.state == TaskState.SUCCEEDED } shouldBe 100
            ticks.single { it.state == TaskState.QUEUED }.runAfter shouldBe start.plusSeconds(6000)
            q.schedules().single().nextFireAt shouldBe start.plusSeconds(6000)
        }
    }
})
