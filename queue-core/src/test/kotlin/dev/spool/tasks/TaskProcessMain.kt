package dev.spool.tasks

import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
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
 * - `schedule <db> <workerId> <clock-file>`: with a [FileClock] on `clock-file`, defines the
 *   schedule `tick` (every minute from the clock's time at start), prints READY, then for each
 *   `round` line on stdin sweeps, claims and completes `tick` tasks, sweeps again and prints DONE;
 *   exits on `quit`.
 */
object TaskProcessMain {
    @JvmStatic
    fun main(args: Array<String>) {
        when (args[0]) {
            "work" -> work(args.drop(1))
            "hang" -> hang(args.drop(1))
            "schedule" -> schedule(args.drop(1))
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

    private fun schedule(args: List<String>) {
        val (db, workerId, clockFile) = args
        val clock = FileClock(Path.of(clockFile))
        runBlocking {
            TaskQueue.open(Path.of(db), TaskQueueConfig(clock = clock)).use { queue ->
                queue.schedule("tick", "tick", "{}", Recurrence.Every(1.minutes), startAt = SCHEDULE_START)
                println("READY")
                System.out.flush()
                while (true) {
                    when (readlnOrNull()) {
                        "round" -> {
                            queue.sweep()
                            queue.claim(workerId, limit = 5, types = setOf("tick")).forEach { queue.complete(it.lease!!) }
                            queue.sweep()
                            println("DONE")
                            System.out.flush()
                        }
                        else -> return@use
                    }
                }
            }
        }
    }

    /** Where the schedule of `schedule` mode starts. */
    val SCHEDULE_START: java.time.Instant = java.time.Instant.parse("2026-01-01T00:00:00Z")

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
                    check(queue.complete(first.lease!!) == AckResult.COMPLETED) { "could not complete ${first.id}" }
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

/**
 * A clock shared by processes: the epoch milliseconds written in [file]. The test moves it with
 * [set], which replaces the file atomically, so every process reads one consistent time.
 */
class FileClock(private val file: Path) : java.time.Clock() {
    override fun millis(): Long = Files.readString(file).trim().toLong()
    override fun instant(): java.time.Instant = java.time.Instant.ofEpochMilli(millis())
    override fun getZone(): java.time.ZoneId = java.time.ZoneOffset.UTC
    override fun withZone(zone: java.time.ZoneId?): java.time.Clock = this

    companion object {
        fun set(file: Path, at: java.time.Instant) {
            val next = file.resolveSibling(file.fileName.toString() + ".next")
            Files.writeString(next, at.toEpochMilli().toString())
            Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING)
        }
    }
}
