package dev.spool.samples

import dev.spool.queue.QueuedEvent
import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant

/** A fresh directory for one test's files. */
fun tempDir(): Path = Files.createTempDirectory("spool-samples-test")

/** A queued event as a read would return it, with a payload of about [payloadChars] characters. */
fun queued(n: Int, payloadChars: Int = 10, retryCount: Int = 0): QueuedEvent = QueuedEvent(
    eventId = "e$n",
    eventType = "tap",
    payload = """{"n":$n,"pad":"${"x".repeat(payloadChars)}"}""",
    projectId = null,
    coalesceKey = null,
    timestamp = Instant.ofEpochMilli(1_700_000_000_000L + n),
    retryCount = retryCount,
    revision = n.toLong(),
)
