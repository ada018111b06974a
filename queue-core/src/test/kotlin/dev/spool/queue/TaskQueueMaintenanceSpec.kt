package dev.spool.queue

import dev.spool.maintenance.Maintenance
import dev.spool.storage.CheckpointMode
import dev.spool.tasks.TaskFilter
import dev.spool.tasks.TaskQueue
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger

class TaskQueueMaintenanceSpec : FunSpec({
    test("a task queue is backed up, checkpointed, vacuumed and checked while tasks keep arriving, and restored once closed") {
        val dir = tempDir()
        val path = dir.resolve("tasks.db")
        val backup = dir.resolve("tasks-backup.db")
        val tasks = TaskQueue.open(path)
        repeat(50) { tasks.enqueue("email", """{"n":$it}""") }
        val maintenance = Maintenance.of(tasks)
        val stop = AtomicBoolean(false)
        val enqueued = AtomicInteger()
        coroutineScope {
            val writers = List(2) {
                launch(Dispatchers.Default) {
                    while (!stop.get()) {
                        tasks.enqueue("resize", "{}")
                        enqueued.incrementAndGet()
                    }
                }
            }
            while (enqueued.get() < 10) delay(1)
            try {
                maintenance.backup(backup)
                maintenance.checkpoint(CheckpointMode.TRUNCATE).completed shouldBe true
                maintenance.vacuum()
                maintenance.analyze()
                maintenance.integrityCheck().ok shouldBe true
                shouldThrow<IllegalStateException> { Maintenance.restore(backup, path) }
            } finally {
                stop.set(true)
                writers.joinAll()
            }
        }
        tasks.stats().depth["resize"]!!.values.sum() shouldBe enqueued.get()
        tasks.close()

        Maintenance.restore(backup, path)
        TaskQueue.open(path).use { restored ->
            restored.list(TaskFilter(type = "email", limit = 1000)).tasks.size shouldBe 50
        }
    }
})
