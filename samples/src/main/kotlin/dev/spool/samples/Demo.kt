package dev.spool.samples

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
import dev.spool.ktor.InspectionServer
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.samples.client.OkHttpUploader
import dev.spool.samples.server.Faults
import dev.spool.samples.server.IngestionServer
import dev.spool.sync.Connectivity
import dev.spool.sync.DeadLetterFile
import dev.spool.sync.OfflineSync
import dev.spool.sync.SyncConfig
import dev.spool.tasks.RetryPolicy
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.int
import java.io.PrintStream
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import kotlin.random.Random
import kotlin.system.exitProcess
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

/**
 * The demo behind the README's main command: the whole product in about 30 seconds.
 *
 * 1. Starts the [IngestionServer] on a free loopback port.
 * 2. Runs the app ([DemoApp]) in its own JVM, which emits [Options.events] events while offline
 *    from several coroutines: taps, screen states that coalesce per screen, and a few events of a
 *    type the server always refuses.
 * 3. Kills the app with SIGKILL, its queue still open, and opens the file again: nothing is lost.
 * 4. Goes online with a per-event error rate and, a third of the way in, a server outage (its
 *    listening socket closed: connection refused), compressed to a few seconds.
 * 5. Drains the queue, with live progress.
 * 6. Proves the outcome: every event emitted and not coalesced away is stored on the server
 *    exactly once or is in the dead-letter file, never both; the queue is empty on disk too.
 *
 * [main] exits with status 1 if the proof fails.
 */
public object Demo {
    /**
     * How the demo runs; the defaults are the README's.
     *
     * @property events how many events to emit, the refused ones included.
     * @property refused how many events of a type the server always refuses (they end up in the
     *   dead-letter file).
     * @property errorRate the server's per-event error rate while online.
     * @property latency the server's added latency per batch, so progress is visible.
     * @property outage how long the server is offline.
     * @property directory where the queue and the dead-letter file go; a new temporary directory
     *   if null.
     * @property seed the seed for the server's errors and the client's jitter.
     * @property drainTimeout how long draining may take before the demo gives up.
     */
    public class Options(
        public val events: Int = 20_000,
        public val refused: Int = 3,
        public val errorRate: Double = 0.05,
        public val latency: Duration = 45.milliseconds,
        public val outage: Duration = 4.seconds,
        public val directory: Path? = null,
        public val seed: Int = 2026,
        public val drainTimeout: Duration = 120.seconds,
    ) {
        init {
            require(events > refused) { "events must be more than refused ($refused), was $events" }
            require(refused >= 0) { "refused must not be negative, was $refused" }
        }
    }

    /**
     * Runs the demo with the default [Options] and exits with 0 if the proof holds, else 1.
     *
     * Arguments, all optional: an event count, and `--plain` to print progress as lines instead
     * of redrawing one line. Progress is redrawn when a terminal is likely (a console, or `TERM`
     * set outside CI), since Maven's exec plugin may hide the console from the child JVM.
     */
    @JvmStatic
    public fun main(args: Array<String>) {
        val events = args.firstNotNullOfOrNull { it.toIntOrNull() } ?: Options().events
        val terminalLikely = System.console() != null ||
            (System.getenv("TERM").let { it != null && it != "dumb" } && System.getenv("CI") == null)
        val live = terminalLikely && "--plain" !in args
        val ok = runBlocking { run(Options(events = events), System.out, live) }
        exitProcess(if (ok) 0 else 1)
    }

    /**
     * Runs the demo, printing its story to [out], and returns whether the proof holds.
     *
     * @param live redraw the progress line in place (for a terminal) instead of printing lines.
     */
    public suspend fun run(options: Options, out: PrintStream, live: Boolean = false): Boolean {
        val terminal = Terminal(out, live)
        val clock = TimeSource.Monotonic.markNow()
        val directory = options.directory ?: Files.createTempDirectory("spool-demo")
        val dbPath = directory.resolve("events.db")
        val deadLetters = DeadLetterFile(directory.resolve("dead-letters.jsonl"))
        val random = Random(options.seed)
        terminal.say("Spool demo: a durable offline queue on SQLite, synced to a local server over HTTP.")

        IngestionServer(faults = Faults(random)).start().use { server ->
            terminal.say("[1/6] Ingestion server (Ktor on Netty) listening on ${server.baseUrl}: ${httpCount(server.baseUrl)} events stored")
            server.faults.rejectedEventType = DemoApp.REFUSED_TYPE

            // 2. Emit while offline, in the app's own JVM.
            terminal.say(
                "[2/6] Offline: the app (its own JVM) emits ${"%,d".format(options.events)} events: taps, screen states " +
                    "that coalesce per screen, ${options.refused} of a type the server refuses",
            )
            val emitted = runApp(dbPath, directory.resolve("emitted.json"), options, terminal) ?: return false
            terminal.say(
                "      emitted ${"%,d".format(options.events)}: ${"%,d".format(emitted.coalesced)} screen states coalesced into " +
                    "the latest per screen, ${"%,d".format(emitted.expected.size)} events queued",
            )

            // 3. The app was killed with its queue open; reopen the file.
            OfflineQueue.open(dbPath, QueueConfig(name = "demo")).use { queue ->
                val dashboard = InspectionServer { offlineQueue("demo", queue) }.start()
                terminal.say("      Dashboard (live while the demo runs): ${dashboard.dashboardUrl}")
                val onDisk = queue.sizeFromDisk()
                terminal.say("[3/6] App killed (SIGKILL, queue still open) and restarted: ${"%,d".format(onDisk)} events still queued in $dbPath")

                // 4 and 5. Online, with faults, until drained.
                server.faults.errorRate = options.errorRate
                server.faults.latency = options.latency
                terminal.say(
                    "[4/6] Online: the server fails ${(options.errorRate * 100).toInt()}% of events at random, and goes down " +
                        "for ${options.outage} a third of the way in (a 30-second outage, compressed)",
                )
                val drained = sync(queue, server, deadLetters, options, terminal, random, onDisk)

                // 6. Proof.
                terminal.say("[6/6] Proof")
                val proof = prove(queue, server, deadLetters, emitted, onDisk, drained)
                proof.lines.forEach { terminal.say("      $it") }
                terminal.say(
                    if (proof.ok) "PASS in ${clock.elapsedNow().inWholeMilliseconds / 1000.0} s: every event stored exactly once or dead-lettered, none lost."
                    else "FAIL: see the lines above.",
                )
                dashboard.close()
                return proof.ok
            }
        }
    }

    /**
     * Runs [DemoApp] in a child JVM, shows its progress, kills it with SIGKILL once it has
     * emitted everything (its queue still open), and returns what it emitted; null if it failed.
     */
    private suspend fun runApp(db: Path, result: Path, options: Options, terminal: Terminal): DemoApp.Emitted? =
        withContext(Dispatchers.IO) {
            val java = Paths.get(System.getProperty("java.home"), "bin", "java").toString()
            val process = ProcessBuilder(
                java, "-cp", System.getProperty("java.class.path"), DemoApp::class.java.name,
                db.toString(), options.events.toString(), options.refused.toString(), result.toString(),
            ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
            try {
                var ready = false
                var lastShown = 0L
                process.inputStream.bufferedReader().useLines { lines ->
                    for (line in lines) {
                        if (line == "ready") {
                            ready = true
                            break
                        }
                        val parts = line.split(' ')
                        val now = System.nanoTime()
                        if (parts.size == 3 && parts[0] == "progress" && (terminal.live || now - lastShown > 1_000_000_000L)) {
                            lastShown = now
                            val done = parts[1].toInt()
                            terminal.status(
                                "      ${Terminal.bar(done.toDouble() / options.events)} emitted ${"%,6d".format(done)}  " +
                                    "pending ${"%,6d".format(parts[2].toInt())}  (app pid ${process.pid()})",
                            )
                        }
                    }
                }
                terminal.endStatus()
                if (!ready) {
                    terminal.say("FAIL: the app exited with status ${process.waitFor()} before emitting everything")
                    return@withContext null
                }
                DemoApp.Emitted.read(result)
            } finally {
                process.destroyForcibly() // SIGKILL on Linux and macOS: no shutdown hooks, no close()
                process.waitFor()
            }
        }

    private const val MAX_BATCH_EVENTS = 100

    /** Syncs until the queue is empty (or [Options.drainTimeout]); returns whether it drained. */
    private suspend fun sync(
        queue: OfflineQueue,
        server: IngestionServer,
        deadLetters: DeadLetterFile,
        options: Options,
        terminal: Terminal,
        random: Random,
        total: Int,
    ): Boolean = coroutineScope {
        val connectivity = Connectivity(initiallyOnline = false)
        val workerScope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        // Acknowledged rows are hidden at once and deleted in batches through the flusher.
        val flusher = SyncedRowFlusher(queue, FlusherConfig(), workerScope)
        // The app's sync is queue-sync's OfflineSync; the sample supplies only the HTTP adapter.
        val uploader = OkHttpUploader(server.baseUrl)
        val sync = OfflineSync(
            queue = queue,
            uploader = uploader,
            deadLetters = deadLetters,
            config = SyncConfig(
                maxBatchEvents = MAX_BATCH_EVENTS,
                maxBatchBytes = server.maxBatchBytes,
                retryPolicy = RetryPolicy(base = 100.milliseconds, factor = 2.0, max = 1.seconds, jitter = 0.5),
                random = random,
            ),
            online = connectivity.online,
            flusher = flusher,
        )
        val started = TimeSource.Monotonic.markNow()
        var phase = "online"
        sync.start(workerScope)
        connectivity.setOnline(true)
        val display = launch {
            while (isActive) {
                val p = sync.progress.value
                val pending = queue.sizes.value
                terminal.status(
                    "      ${Terminal.bar((total - pending).toDouble() / total)} pending ${"%,6d".format(pending)}  " +
                        "uploaded ${"%,6d".format(p.uploaded)}  dup ${p.duplicates}  rejected ${p.rejected}  " +
                        "retried ${p.failedRounds}  dead ${p.deadLettered}  [$phase]",
                )
                delay(if (terminal.live) 100.milliseconds else 1.seconds)
            }
        }
        val outage = launch {
            sync.progress.first { it.uploaded >= total / 3 }
            server.goOffline()
            phase = "server DOWN"
            terminal.say("      !! server down: its port refuses connections; the sync backs off with jitter")
            delay(options.outage)
            server.goOnline()
            phase = "online"
            terminal.say("      server back on the same port: uploads resume")
        }
        val drained = withTimeoutOrNull(options.drainTimeout) { queue.sizes.first { it == 0 } } != null
        outage.cancel()
        display.cancel()
        terminal.status(statusLine(sync, queue, total))
        terminal.endStatus()
        sync.close() // finishes the current batch
        sync.join()
        uploader.close()
        flusher.close() // deletes whatever is still recorded, before the queue closes
        workerScope.cancel()
        connectivity.setOnline(false)
        val p = sync.progress.value
        terminal.say(
            "[5/6] " + (if (drained) "Drained" else "NOT drained") + " in ${started.elapsedNow().inWholeMilliseconds / 1000.0} s: " +
                "${p.requests} requests, ${p.failedRounds} retried after failures, ${p.duplicates} redeliveries answered " +
                "'duplicate', ${p.deadLettered} dead-lettered to ${deadLetters.path.fileName}",
        )
        drained
    }

    private fun statusLine(sync: OfflineSync, queue: OfflineQueue, total: Int): String {
        val p = sync.progress.value
        val pending = queue.sizes.value
        return "      ${Terminal.bar((total - pending).toDouble() / total)} pending ${"%,6d".format(pending)}  " +
            "uploaded ${"%,6d".format(p.uploaded)}  dup ${p.duplicates}  rejected ${p.rejected}  retried ${p.failedRounds}  dead ${p.deadLettered}"
    }

    private class Proof(val ok: Boolean, val lines: List<String>)

    private suspend fun prove(
        queue: OfflineQueue,
        server: IngestionServer,
        deadLetters: DeadLetterFile,
        emitted: DemoApp.Emitted,
        reopened: Int,
        drained: Boolean,
    ): Proof {
        val lines = ArrayList<String>()
        var ok = drained
        fun check(passed: Boolean, line: String) {
            ok = ok && passed
            lines += (if (passed) "ok   " else "FAIL ") + line
        }
        val serverCount = httpCount(server.baseUrl)
        val storedIds = server.store.ids()
        val stored = storedIds.toSet()
        val dead = deadLetters.eventIds()
        val deadSet = dead.toSet()
        val seqs = server.store.events().map { (it["payload"] as JsonObject)["seq"].toString() }
        val expected = emitted.expected
        val lost = expected - stored - deadSet

        check(reopened == expected.size, "reopened queue held ${"%,d".format(reopened)} = emitted - coalesced = ${"%,d".format(expected.size)}")
        check(
            serverCount + dead.size == expected.size,
            "server count ${"%,d".format(serverCount)} + dead-lettered ${dead.size} = emitted - coalesced = ${"%,d".format(expected.size)}",
        )
        check(lost.isEmpty(), "lost: ${lost.size}" + if (lost.isEmpty()) "" else " (${lost.take(5)})")
        check(
            storedIds.size == stored.size && seqs.size == seqs.toSet().size && (stored intersect deadSet).isEmpty() && dead.size == deadSet.size,
            "stored twice: ${storedIds.size - stored.size + seqs.size - seqs.toSet().size + (stored intersect deadSet).size + dead.size - deadSet.size}",
        )
        check((stored + deadSet).containsAll(emitted.taps) && (stored - expected).isEmpty(), "every tap arrived; only the latest state of each screen was sent")
        check(deadSet.containsAll(emitted.refused), "the ${emitted.refused.size} refused events are in ${deadLetters.path}")
        val size = queue.size()
        val disk = queue.sizeFromDisk()
        check(size == 0 && disk == 0, "client queue empty: count $size, disk $disk")
        val counters = server.store.counters()
        check(
            counters.duplicates <= MAX_BATCH_EVENTS,
            "at least once on the wire: ${counters.duplicates} redeliveries deduplicated by the server " +
                "(at most the one batch whose answer the outage cut)",
        )
        return Proof(ok, lines)
    }

    private fun httpCount(baseUrl: URI): Int {
        val client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
        val body = client.send(HttpRequest.newBuilder(baseUrl.resolve(Wire.COUNT_PATH)).GET().build(), HttpResponse.BodyHandlers.ofString()).body()
        return ((Json.parseToJsonElement(body) as JsonObject)["count"] as JsonPrimitive).int
    }
}
