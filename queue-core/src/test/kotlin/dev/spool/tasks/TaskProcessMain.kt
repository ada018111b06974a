package dev.spool.tasks

import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * A child JVM for [MultiProcessSpec]: `TaskProcessMain <db> <workerId> <output> <go-file>`.
 * Prints READY, waits for the go file, then runs a [TaskWorker] on the shared file, appending the
 * id of every task its handler runs to the output file, until no task is queued or leased.
 */
object TaskProcessMain {
    @JvmStatic
    fun main(args: Array<String>) {
        val (db, workerId, output, go) = args
        runBlocking {
            TaskQueue.open(Path.of(db)).use { queue ->
                println("READY")
                System.out.flush()
                while (!Files.exists(Path.of(go))) delay(5.milliseconds)
                Files.newBufferedWriter(Path.of(output), StandardOpenOption.CREATE, StandardOpenOption.APPEND).use { out ->
                    val handler = TaskHandler { task ->
                        synchronized(out) {
                            out.write("${task.id.value}\n")
                            out.flush()
                        }
                        delay(1.milliseconds)
                    }
                    val config = TaskWorkerConfig(
                        workerId = workerId,
                        leaseTtl = 30.seconds,
                        pollInterval = 10.milliseconds,
                        sweepInterval = 100.milliseconds,
                    )
                    TaskWorker(queue, mapOf("job" to handler), concurrency = 4, config = config).start().use {
                        while (true) {
                            delay(20.milliseconds)
                            val open = queue.list(TaskFilter(states = setOf(TaskState.QUEUED, TaskState.LEASED), limit = 1))
                            if (open.tasks.isEmpty()) break
                        }
                    }
                }
            }
        }
    }
}
