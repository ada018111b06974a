package dev.spool.sync

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
import dev.spool.queue.BatchEventResult
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.test.StandardTestDispatcher
import kotlinx.coroutines.test.TestScope
import kotlinx.coroutines.test.runTest
import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant
import kotlin.time.Duration

/** A fresh directory for one test's files. */
fun tempDir(): Path = Files.createTempDirectory("spool-sync-test")

fun event(n: Int, payload: String = """{"n":$n}"""): QueueEvent = QueueEvent("e$n", "tap", payload)

fun ids(range: IntRange): List<String> = range.map { "e$it" }

/** A queued event as a read returns it, with a payload of [payloadChars] characters of padding. */
fun queued(n: Int, payloadChars: Int = 10): QueuedEvent = QueuedEvent(
    eventId = "e$n", eventType = "tap", payload = """{"pad":"${"x".repeat(payloadChars)}"}""",
    projectId = null, coalesceKey = null, timestamp = Instant.ofEpochMilli(1_700_000_000_000L + n),
    retryCount = 0, revision = n.toLong(),
)

fun succeed(batch: List<QueuedEvent>): UploadOutcome =
    UploadOutcome.Results(batch.map { BatchEventResult(it.eventId, SyncStatus.SUCCESS) })

/** One call to a [FakeUploader]: the virtual time it started at and the ids it carried. */
class Call(val time: Long, val ids: List<String>) {
    override fun toString(): String = "Call(t=$time, ${ids.size} events)"
}

/** An uploader that records every call (with the scope's virtual time) and answers with [answer]. */
class FakeUploader(private val clock: () -> Long, private val answer: suspend (Int, List<QueuedEvent>) -> UploadOutcome) : Uploader {
    val calls = ArrayList<Call>()
    override suspend fun upload(batch: List<QueuedEvent>): UploadOutcome {
        calls += Call(clock(), batch.map { it.eventId })
        return answer(calls.size, batch)
    }
}

/** A sink that keeps letters in memory. */
class MemorySink : DeadLetterSink {
    val letters = ArrayList<DeadLetter>()
    override suspend fun write(letters: List<DeadLetter>) {
        this.letters += letters
    }
}

/**
 * Runs [block] on virtual time against a fresh queue holding [events] events. The queue's reads
 * run on the test dispatcher, so the scheduler never skips ahead while a peek is on another
 * thread; writes from the test go through the blocking facade for the same reason.
 */
@OptIn(ExperimentalCoroutinesApi::class)
fun virtualQueue(events: Int = 0, block: suspend TestScope.(OfflineQueue) -> Unit) {
    val dispatcher = StandardTestDispatcher()
    OfflineQueue.open(tempDir().resolve("q.db"), QueueConfig(readDispatcher = dispatcher)).use { queue ->
        val blocking = queue.blocking()
        for (n in 1..events) blocking.queueEvent(event(n))
        runTest(dispatcher) { block(queue) }
    }
}

/**
 * A flusher that never deletes on its own. Its idle timer runs on real time, so the test
 * scheduler has no stray task to skip ahead to while a write is on the queue's thread.
 */
fun TestScope.quietFlusher(queue: OfflineQueue): SyncedRowFlusher = SyncedRowFlusher(
    queue,
    FlusherConfig(maxBatch = Int.MAX_VALUE, maxDelay = Duration.INFINITE),
    CoroutineScope(backgroundScope.coroutineContext + Dispatchers.Default),
)

/** Starts a sync of [queue] in the test's background scope. */
fun TestScope.startSync(
    queue: OfflineQueue,
    uploader: Uploader,
    config: SyncConfig,
    online: StateFlow<Boolean> = MutableStateFlow(true),
    deadLetters: DeadLetterSink = MemorySink(),
    flusher: SyncedRowFlusher = quietFlusher(queue),
): OfflineSync = OfflineSync(queue, uploader, deadLetters, config, online, flusher).also { it.start(backgroundScope) }
