package dev.spool.queue

import java.nio.file.Files
import java.nio.file.Path

/** A fresh directory for one test's database files. */
fun tempDir(): Path = Files.createTempDirectory("spool-test")

/** A fresh database path in its own directory. */
fun tempDb(): Path = tempDir().resolve("queue.db")

/** A small valid event; [n] makes the id and payload unique. */
fun event(
    n: Int,
    type: String = "click",
    projectId: String? = null,
    coalesceKey: String? = null,
    id: String = "e$n",
): QueueEvent = QueueEvent(id, type, """{"n":$n}""", projectId, coalesceKey)

/** Opens a queue at a fresh path, runs [block] and closes it. */
suspend fun <T> withQueue(config: QueueConfig = QueueConfig(), path: Path = tempDb(), block: suspend (OfflineQueue) -> T): T =
    OfflineQueue.open(path, config).use { block(it) }
