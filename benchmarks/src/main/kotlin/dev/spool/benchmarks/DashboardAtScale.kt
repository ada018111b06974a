package dev.spool.benchmarks

import dev.spool.ktor.InspectionServer
import dev.spool.queue.OfflineQueue
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskState
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import okhttp3.Request
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.sql.Connection
import java.sql.DriverManager
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.concurrent.TimeUnit

/**
 * Times every route the dashboard polls, through the real Ktor server (spool-ktor's
 * [InspectionServer] on loopback) and a real HTTP client (OkHttp), against a task queue of
 * 1,000,000 tasks and an offline queue of 1,000,000 events; writes a Markdown report.
 *
 * ```
 * benchmarks/run.sh dashboard            # or, after building the jar:
 * java -cp benchmarks/target/benchmarks.jar dev.spool.benchmarks.DashboardAtScale \
 *     --tasks 1000000 --events 1000000 --requests 200 --out benchmarks/results/<date>-dashboard.md
 * ```
 *
 * The files are filled by plain JDBC inserts after the queues created their schema (the task
 * queue's depth counts are kept by its triggers, as for any writer). Tasks: 8 types, 60 %
 * SUCCEEDED, 30 % QUEUED, 5 % DEAD_LETTER, 4 % CANCELLED, 1 % LEASED, one log row each. Each
 * route gets a warm-up, then `--requests` sequential requests; the report gives the median, p99
 * and maximum. Also timed once, directly on the file, for comparison: the `GROUP BY` that
 * `TaskQueue.stats()` ran before the counts were kept, which every refresh after a write paid.
 */
public object DashboardAtScale {
    private val TYPES = listOf("email", "resize", "report", "sync", "invoice", "webhook", "thumbnail", "cleanup")

    /** Runs the measurement; see the class documentation for the arguments. */
    @JvmStatic
    public fun main(args: Array<String>) {
        val options = args.toList().chunked(2).associate { (k, v) -> k.removePrefix("--") to v }
        val taskCount = options["tasks"]?.toInt() ?: 1_000_000
        val eventCount = options["events"]?.toInt() ?: 1_000_000
        val requests = options["requests"]?.toInt() ?: 200
        val out = Paths.get(options["out"] ?: "benchmarks/results/${LocalDate.now(ZoneOffset.UTC)}-dashboard.md")
        val dir = Files.createTempDirectory(Workspace.directory, "dashboard")
        val tasksDb = dir.resolve("tasks.db")
        val eventsDb = dir.resolve("events.db")

        val fillStarted = System.nanoTime()
        fillTasks(tasksDb, taskCount)
        fillEvents(eventsDb, eventCount)
        val fillSeconds = (System.nanoTime() - fillStarted) / 1e9
        val oldGroupByMs = timeOnce { groupBy(tasksDb) }
        println("filled $taskCount tasks and $eventCount events in ${"%.1f".format(fillSeconds)} s")

        val results = ArrayList<Pair<String, Stats>>()
        TaskQueue.open(tasksDb).use { tasks ->
            OfflineQueue.open(eventsDb).use { events ->
                val deepTask = runBlocking { tasks.list(dev.spool.tasks.TaskFilter(limit = 1), dev.spool.tasks.TaskId(taskCount * 9L / 10)).tasks.single().id.value }
                val deepDead = runBlocking {
                    tasks.list(dev.spool.tasks.TaskFilter(states = setOf(TaskState.DEAD_LETTER), limit = 1), dev.spool.tasks.TaskId(taskCount * 9L / 10)).tasks.single().id.value
                }
                // The cursor text of the event at 90 %: its position (timestamp, row id).
                val deepEvent = connect(eventsDb).use { c ->
                    c.createStatement().use { s ->
                        s.executeQuery("SELECT timestamp, id FROM queue WHERE id = ${eventCount * 9L / 10}").use { rs -> rs.next(); "${rs.getLong(1)}.${rs.getLong(2)}" }
                    }
                }
                runBlocking {
                    tasks.registerWorker("worker-1", emptySet(), kotlin.time.Duration.parse("30s"))
                    tasks.schedule("hourly", "report", "{}", dev.spool.tasks.Recurrence.Every(kotlin.time.Duration.parse("1h")))
                }
                val server = InspectionServer {
                    taskQueue("jobs", tasks)
                    offlineQueue("events", events)
                }.start()
                server.use {
                    val api = "http://127.0.0.1:${server.port}/spool/api"
                    val routes = listOf(
                        "overview (polled)" to "/overview",
                        "task stats" to "/tasks/jobs/stats",
                        "tasks, first page" to "/tasks/jobs/tasks?limit=25",
                        "tasks, page at 90 %" to "/tasks/jobs/tasks?limit=25&cursor=$deepTask",
                        "tasks state=QUEUED" to "/tasks/jobs/tasks?state=QUEUED&limit=25",
                        "tasks state=LEASED" to "/tasks/jobs/tasks?state=LEASED&limit=25",
                        "tasks state=SUCCEEDED, page at 90 %" to "/tasks/jobs/tasks?state=SUCCEEDED&limit=25&cursor=$deepTask",
                        "tasks type=resize, page at 90 %" to "/tasks/jobs/tasks?type=resize&limit=25&cursor=$deepTask",
                        "tasks state=QUEUED,LEASED type=email" to "/tasks/jobs/tasks?state=QUEUED,LEASED&type=email&limit=25",
                        "dead letters (polled)" to "/tasks/jobs/dead-letters?limit=25",
                        "dead letters, page at 90 %" to "/tasks/jobs/dead-letters?limit=25&cursor=$deepDead",
                        "task detail with log" to "/tasks/jobs/tasks/$deepTask",
                        "workers (polled)" to "/tasks/jobs/workers",
                        "schedules (polled)" to "/tasks/jobs/schedules",
                        "throughput (polled)" to "/tasks/jobs/throughput",
                        "pending events, first page (polled)" to "/offline/events/events?limit=25",
                        "pending events, page at 90 %" to "/offline/events/events?limit=25&cursor=$deepEvent",
                    )
                    val client = OkHttpClient.Builder().readTimeout(60, TimeUnit.SECONDS).build()
                    for ((name, path) in routes) {
                        repeat(REQUESTS_WARMUP) { get(client, api + path) }
                        val samples = LongArray(requests) { timeNanos { get(client, api + path) } }
                        results += name to Stats.of(samples)
                        println("%-40s %s".format(name, results.last().second))
                    }
                    // Not polled: grouped counts, cached until the file changes. Its first call pays the scan.
                    val coldEventStats = timeNanos { get(client, "$api/offline/events/stats") }
                    results += "offline stats, first call (not polled)" to Stats.of(longArrayOf(coldEventStats))
                    client.dispatcher.executorService.shutdown()
                    client.connectionPool.evictAll()
                }
            }
        }
        Files.createDirectories(out.toAbsolutePath().parent)
        // A hand-written <stem>.notes.md beside the report, if present, is appended (as run.sh does for JMH reports).
        val notes = out.resolveSibling(out.fileName.toString().removeSuffix(".md") + ".notes.md")
        val extra = if (Files.exists(notes)) Files.readString(notes) else ""
        Files.writeString(out, report(taskCount, eventCount, requests, fillSeconds, oldGroupByMs, results) + extra)
        dir.toFile().deleteRecursively()
        println("wrote $out")
    }

    private const val REQUESTS_WARMUP = 20

    private fun get(client: OkHttpClient, url: String) {
        client.newCall(Request.Builder().url(url).build()).execute().use { response ->
            check(response.code == 200) { "$url answered ${response.code}: ${response.body.string()}" }
            response.body.bytes()
        }
    }

    private inline fun timeNanos(block: () -> Unit): Long {
        val started = System.nanoTime()
        block()
        return System.nanoTime() - started
    }

    private inline fun timeOnce(block: () -> Unit): Double = timeNanos(block) / 1e6

    private fun connect(path: Path): Connection = DriverManager.getConnection("jdbc:sqlite:$path")

    private fun fillTasks(path: Path, count: Int) {
        TaskQueue.open(path).close() // the schema, with its triggers
        connect(path).use { c ->
            c.autoCommit = false
            val now = System.currentTimeMillis()
            c.prepareStatement(
                "INSERT INTO tasks (type, payload, priority, state, run_after, attempts, max_attempts, lease_owner, lease_expires_at, last_error, created_at, updated_at, lease_token) " +
                    "VALUES (?, ?, 100, ?, ?, ?, 5, ?, ?, ?, ?, ?, ?)",
            ).use { insert ->
                c.prepareStatement("INSERT INTO task_log (task_id, type, at, from_state, to_state, attempt) VALUES (?, ?, ?, NULL, 'QUEUED', 0)").use { log ->
                    for (i in 1..count) {
                        val type = TYPES[i % TYPES.size]
                        val state = when (i % 100) {
                            in 0..59 -> TaskState.SUCCEEDED
                            in 60..89 -> TaskState.QUEUED
                            in 90..94 -> TaskState.DEAD_LETTER
                            in 95..98 -> TaskState.CANCELLED
                            else -> TaskState.LEASED
                        }
                        val created = now - (count - i) * 10L
                        insert.setString(1, type)
                        insert.setString(2, """{"n":$i,"to":"user$i@example.com"}""")
                        insert.setString(3, state.name)
                        insert.setLong(4, created)
                        insert.setInt(5, if (state == TaskState.QUEUED) 0 else 1)
                        insert.setString(6, if (state == TaskState.LEASED) "worker-1" else null)
                        if (state == TaskState.LEASED) insert.setLong(7, now + 3_600_000) else insert.setNull(7, java.sql.Types.INTEGER)
                        insert.setString(8, if (state == TaskState.DEAD_LETTER) "smtp: 550 mailbox unavailable" else null)
                        insert.setLong(9, created)
                        insert.setLong(10, created)
                        insert.setLong(11, if (state == TaskState.QUEUED) 0 else 1) // the fencing token of the one claim so far
                        insert.executeUpdate()
                        log.setLong(1, i.toLong())
                        log.setString(2, type)
                        log.setLong(3, created)
                        log.executeUpdate()
                        if (i % 100_000 == 0) c.commit()
                    }
                }
            }
            c.commit()
            c.autoCommit = true
            c.createStatement().use { it.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        }
    }

    private fun fillEvents(path: Path, count: Int) {
        OfflineQueue.open(path).close() // the schema; the queue counts its rows when opened again
        connect(path).use { c ->
            c.autoCommit = false
            val now = System.currentTimeMillis()
            c.prepareStatement("INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES (?, ?, ?, ?)").use { insert ->
                for (i in 1..count) {
                    insert.setString(1, "e$i")
                    insert.setString(2, if (i % 3 == 0) "view" else "click")
                    insert.setString(3, """{"n":$i,"screen":"home"}""")
                    insert.setLong(4, now - (count - i) * 10L)
                    insert.executeUpdate()
                    if (i % 100_000 == 0) c.commit()
                }
            }
            c.commit()
            c.autoCommit = true
            c.createStatement().use { it.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        }
    }

    /** The aggregate `stats()` ran before the depth counts existed. */
    private fun groupBy(path: Path) {
        connect(path).use { c ->
            c.createStatement().use { s ->
                s.executeQuery("SELECT type, state, COUNT(*), MIN(created_at) FROM tasks GROUP BY type, state").use { rs -> while (rs.next()) continue }
            }
        }
    }

    private class Stats(val medianMs: Double, val p99Ms: Double, val maxMs: Double, val n: Int) {
        override fun toString(): String = "median %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)".format(medianMs, p99Ms, maxMs, n)

        companion object {
            fun of(nanos: LongArray): Stats {
                val sorted = nanos.sorted()
                fun at(q: Double) = sorted[((sorted.size - 1) * q).toInt()] / 1e6
                return Stats(at(0.5), at(0.99), sorted.last() / 1e6, sorted.size)
            }
        }
    }

    private fun report(
        tasks: Int,
        events: Int,
        requests: Int,
        fillSeconds: Double,
        oldGroupByMs: Double,
        results: List<Pair<String, Stats>>,
    ): String = buildString {
        appendLine("# Dashboard routes at scale: ${LocalDate.now(ZoneOffset.UTC)}")
        appendLine()
        appendLine("`benchmarks/run.sh dashboard` (`dev.spool.benchmarks.DashboardAtScale`): the spool-ktor routes served by")
        appendLine("`InspectionServer` (Netty, loopback) and called with OkHttp, one request at a time, against a SQLite")
        appendLine("task queue of ${"%,d".format(tasks)} tasks (8 types; 60 % SUCCEEDED, 30 % QUEUED, 5 % DEAD_LETTER, 4 % CANCELLED,")
        appendLine("1 % LEASED; one log row each) and an offline queue of ${"%,d".format(events)} events. $REQUESTS_WARMUP warm-up requests, then")
        appendLine("$requests timed requests per route (one timed call for the last row). Filling the files took ${"%.0f".format(fillSeconds)} s.")
        appendLine()
        appendLine("Machine: ${Runtime.getRuntime().availableProcessors()} cores shared with other work (load at the end: ${loadAverage()}); JDK ${System.getProperty("java.version")}.")
        appendLine("Timings on a shared machine are indicative; what matters is that none grows with the queue.")
        appendLine()
        appendLine("| route | median ms | p99 ms | max ms | n |")
        appendLine("| --- | ---: | ---: | ---: | ---: |")
        // The name goes outside the format: "90 %" is text, not a conversion.
        for ((name, s) in results) appendLine("| " + name + " | %.2f | %.2f | %.2f | %d |".format(s.medianMs, s.p99Ms, s.maxMs, s.n))
        appendLine()
        appendLine("For comparison, the `GROUP BY type, state` over every task that `TaskQueue.stats()` ran before the")
        appendLine("counts were kept by triggers, run once on the same file: **%.0f ms** (each dashboard refresh after a write paid it).".format(oldGroupByMs))
        appendLine("`/offline/{queue}/stats` (retry buckets and top event types) still groups every row; the dashboard does")
        appendLine("not poll it (the live view shows the kept count and the oldest event by the FIFO index).")
    }

    private fun loadAverage(): String =
        runCatching { Files.readString(Paths.get("/proc/loadavg")).split(" ").take(3).joinToString(" ") }.getOrDefault("unknown")
}
