package dev.spool.tasks

import java.nio.file.Files
import java.nio.file.Path
import java.time.Clock
import java.time.Instant
import java.time.ZoneId
import java.time.ZoneOffset
import kotlin.time.Duration

/** A clock that only moves when told to: lease and backoff tests never sleep. */
class MutableClock(@Volatile var now: Instant = Instant.parse("2026-01-01T00:00:00Z")) : Clock() {
    fun advance(by: Duration) {
        now = now.plusMillis(by.inWholeMilliseconds)
    }

    override fun instant(): Instant = now
    override fun millis(): Long = now.toEpochMilli()
    override fun getZone(): ZoneId = ZoneOffset.UTC
    override fun withZone(zone: ZoneId?): Clock = this
}

/** A fresh task database path in its own directory. */
fun tempTasksDb(): Path = Files.createTempDirectory("spool-tasks").resolve("tasks.db")

/** Opens a task queue at a fresh path, runs [block] and closes it. */
suspend fun <T> withTasks(
    config: TaskQueueConfig = TaskQueueConfig(),
    path: Path = tempTasksDb(),
    block: suspend (TaskQueue) -> T,
): T = TaskQueue.open(path, config).use { block(it) }

/** A payload for task [n]. */
fun payload(n: Int): String = """{"n":$n}"""
