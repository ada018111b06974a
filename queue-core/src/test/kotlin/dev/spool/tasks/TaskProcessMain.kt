package dev.spool.tasks

import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * A child JVM for [MultiProcessSpec].
 *
 * - `work <db> <workerId> <output>`: claims one task and prints `HOLDING <id>`, then waits for a
 *   `go` line on stdin, completes it (recording it in the output file), and runs a [TaskWorker] on
 *   the shared file, appending the id of every task its handler runs to the output file, until no
 *   task is queued or leased. Holding a task before `go` proves both processes got work while the
 *   other was running, whatever the scheduling.
 * - `hang <db> <workerId> <count>`: claims `count` tasks with a 60 s lease, prints their ids on
 *   one line, then hangs until killed.
 */
object TaskProcessMain {
    @JvmStatic
    fun main(args: Array<String>) {
        when (args[0]) {
            "work" -> work(args.drop(1))
            "hang" -> hang(args.drop(1))
            else -> error("unknown mode ${args[0]}")
        }
    }

    private fun hang(args: List<String>) {
        val (db, workerId, count) = args
        runBlocking {
            val queue = TaskQueue.open(Path.of(db))
            val claimed = queue.claim(workerId, limit = count.toInt(), leaseTtl = 60.seconds, strategy = ClaimStrategy.FIFO)
            println(claimed.joinToString(" ") { it.id.value.toString() })
            System.out.flush()
            delay(Long.MAX_VALUE)
        }
    }

    private fun work(args: List<String>) {
        val (db, workerId, output) = args
        runBlocking {
            TaskQueue.open(Path.of(db)).use { queue ->
                val first = queue.claim(workerId, leaseTtl = 30.seconds, strategy = ClaimStrategy.FIFO).single()
                println("HOLDING ${first.id.value}")
                System.out.flush()
                check(readLine() == "go") { "expected go" }
                Files.newBufferedWriter(Path.of(output), StandardOpenOption.CREATE, StandardOpenOption.APPEND).use { out ->
                    out.write("${first.id.value}\n")
                    out.flush()
                    check(queue.complete(first.id, workerId) == AckResult.COMPLETED) { "could not complete ${first.id}" }
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
