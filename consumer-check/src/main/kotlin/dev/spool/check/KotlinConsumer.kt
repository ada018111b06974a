package dev.spool.check

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
import dev.spool.ktor.SpoolInspection
import dev.spool.queue.BatchEventResult
import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import dev.spool.queue.SyncStatus
import dev.spool.sync.DeadLetterFile
import dev.spool.sync.FlushPolicy
import dev.spool.sync.OfflineSync
import dev.spool.sync.SyncConfig
import dev.spool.sync.UploadOutcome
import dev.spool.sync.Uploader
import dev.spool.tasks.AckResult
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.postgres.PostgresTaskQueue
import dev.spool.tasks.postgres.PostgresTaskQueueConfig
import io.ktor.server.application.install
import io.ktor.server.engine.embeddedServer
import io.ktor.server.netty.Netty
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.postgresql.ds.PGSimpleDataSource
import java.net.URI
import java.nio.file.Path
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/**
 * A Kotlin application's use of Spool: the suspending API, a StateFlow, the flusher and the sync
 * on a scope, the inspection plugin in its own Ktor server, and PostgresTaskQueue.
 */
/** Runs [block], or fails naming [what] if it takes more than two minutes. */
private suspend fun <T> step(what: String, block: suspend () -> T): T =
    try {
        withTimeout(2.minutes) { block() }
    } catch (e: TimeoutCancellationException) {
        throw AssertionError("Kotlin: $what did not finish within 2 minutes", e)
    }

fun runKotlinConsumer(dir: Path, pgUrl: String): Unit = runBlocking {
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    OfflineQueue.open(dir.resolve("events.db"), QueueConfig(maxQueueSize = 1_000)).use { queue ->
        val first = queue.queueEvent(QueueEvent("kt-1", "click", """{"n":1}"""))
        ConsumerCheck.require(first.outcome == EnqueueOutcome.INSERTED, "Kotlin: first event inserted")
        queue.queueEvent(QueueEvent("kt-2", "screen", """{"s":"home"}""", coalesceKey = "screen"))
        val coalesced = queue.queueEvent(QueueEvent("kt-3", "screen", """{"s":"cart"}""", coalesceKey = "screen"))
        ConsumerCheck.require(coalesced.outcome == EnqueueOutcome.COALESCED, "Kotlin: same coalesceKey coalesces")
        step("the sizes flow reaching 2") { queue.sizes.first { it == 2 } }

        val batch = queue.peek(limit = 100)
        step("the flusher's flush") {
            SyncedRowFlusher(queue, FlusherConfig(maxBatch = 512, maxDelay = 50.milliseconds), scope).use { flusher ->
                flusher.markEventsSynced(batch)
                flusher.flush()
            }
        }
        ConsumerCheck.require(queue.sizeFromDisk() == 0, "Kotlin: the flusher deleted the acknowledged rows")

        // queue-sync: the upload loop with an in-process uploader that accepts every event; on
        // demand only, so the flush below is the one that uploads them.
        repeat(5) { queue.queueEvent(QueueEvent("kt-sync-$it", "click", "{}")) }
        val uploader = Uploader { events ->
            UploadOutcome.Results(events.map { BatchEventResult(it.eventId, SyncStatus.SUCCESS) })
        }
        val sync = OfflineSync(queue, uploader, DeadLetterFile(dir.resolve("dead.jsonl")), SyncConfig(maxBatchEvents = 2, policy = FlushPolicy.onDemand()))
        sync.start(scope)
        val result = step("OfflineSync.flushNow") { sync.flushNow() }
        ConsumerCheck.require(result.drained && result.uploaded == 5, "Kotlin: the sync drained 5 events, got $result")
        sync.close()
        step("OfflineSync stopping after close") { sync.join() }
        ConsumerCheck.require(queue.sizeFromDisk() == 0, "Kotlin: the sync's acknowledgements reached the disk")

        TaskQueue.open(dir.resolve("tasks.db")).use { tasks ->
            val id = tasks.enqueue("download", """{"url":"https://example.com/a"}""", priority = 10)
            val claimed = tasks.claim("kt-worker", leaseTtl = 30.seconds)
            ConsumerCheck.require(claimed.singleOrNull()?.id == id, "Kotlin: the task is claimed")
            val lease = claimed.single().lease ?: error("Kotlin: a claimed task carries its lease")
            ConsumerCheck.require(tasks.complete(lease) == AckResult.COMPLETED, "Kotlin: the task completes")

            // spool-ktor: the plugin installed in the application's own embedded server.
            val server = embeddedServer(Netty, port = 0, host = "127.0.0.1") {
                install(SpoolInspection) {
                    taskQueue("jobs", tasks)
                    offlineQueue("events", queue)
                }
            }.start(wait = false)
            try {
                val port = server.engine.resolvedConnectors().first().port
                val api = URI("http://127.0.0.1:$port/spool/api/")
                val queues = withContext(Dispatchers.IO) { Http.get(api.resolve("queues")) }.filterNot { it.isWhitespace() }
                ConsumerCheck.require(
                    """"name":"jobs"""" in queues && """"name":"events"""" in queues,
                    "Kotlin: /spool/api/queues lists both queues, got $queues",
                )
                val task = withContext(Dispatchers.IO) { Http.get(api.resolve("tasks/jobs/tasks/${id.value}")) }
                ConsumerCheck.require("download" in task, "Kotlin: /spool/api/tasks/jobs/tasks/${id.value} shows the task, got $task")
            } finally {
                server.stop(gracePeriodMillis = 100, timeoutMillis = 1_000)
            }
        }
    }
    scope.cancel()

    // queue-postgres: the same TaskQueue on PostgreSQL, in a schema of its own.
    val dataSource = PGSimpleDataSource().apply { setURL(pgUrl) }
    val schema = "spool_consumer_kotlin"
    Postgres.dropSchema(dataSource, schema)
    try {
        PostgresTaskQueue.open(dataSource, PostgresTaskQueueConfig(schema = schema)).use { tasks ->
            val id = tasks.enqueue("render", """{"scene":7}""")
            val claimed = tasks.claim("kt-pg-worker", leaseTtl = 30.seconds)
            ConsumerCheck.require(claimed.singleOrNull()?.id == id, "Kotlin: the PostgreSQL task is claimed, got $claimed")
            val lease = claimed.single().lease ?: error("Kotlin: a claimed PostgreSQL task carries its lease")
            ConsumerCheck.require(tasks.complete(lease) == AckResult.COMPLETED, "Kotlin: the PostgreSQL task completes")
        }
    } finally {
        Postgres.dropSchema(dataSource, schema)
    }
}
