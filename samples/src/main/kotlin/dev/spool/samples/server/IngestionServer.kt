package dev.spool.samples.server

import dev.spool.samples.Wire
import io.ktor.server.application.Application
import io.ktor.server.engine.EmbeddedServer
import io.ktor.server.engine.embeddedServer
import io.ktor.server.netty.Netty
import io.ktor.server.netty.NettyApplicationEngine
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import java.net.BindException
import java.net.URI
import kotlin.coroutines.CoroutineContext
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/**
 * The sample ingestion server: Ktor on Netty, bound to loopback, speaking [Wire].
 *
 * It installs [ingestion] and then every module in [modules], so other features (such as
 * the `dev.spool.ktor.SpoolInspection` dashboard) can be added without touching this class. Events live in [store] and
 * fault switches in [faults]; both outlive [goOffline], so going offline and back keeps the data.
 *
 * Going offline really closes the listening socket: clients see connection refused, not an HTTP
 * error. Going online binds the same port again.
 *
 * **Threading.** [start], [goOffline], [goOnline] and [close] are serialized and may be called
 * from any thread except a request handler of this server (use `offlineMs` there).
 *
 * **Not** a production ingestion service: no authentication, no persistence across restarts of
 * the process.
 *
 * @param maxBatchBytes the largest decompressed batch body accepted; larger batches get 413.
 * @param faults the fault switches.
 * @param store where events are kept.
 * @param modules more Ktor modules to install after the ingestion routes.
 * @param host the address to bind; loopback by default.
 * @param port the port to bind; 0 picks a free one on [start].
 * @param timerContext where [goOfflineFor] waits.
 * @throws IllegalArgumentException if [maxBatchBytes] is not positive or [port] is out of range.
 */
public class IngestionServer(
    public val maxBatchBytes: Int = Wire.DEFAULT_MAX_BATCH_BYTES,
    public val faults: Faults = Faults(),
    public val store: EventStore = EventStore(),
    private val modules: List<Application.() -> Unit> = emptyList(),
    private val host: String = "127.0.0.1",
    port: Int = 0,
    timerContext: CoroutineContext = Dispatchers.Default,
) : AutoCloseable {
    init {
        require(maxBatchBytes >= 1) { "maxBatchBytes must be at least 1, was $maxBatchBytes" }
        require(port in 0..65535) { "port must be between 0 and 65535, was $port" }
    }

    private val timers = CoroutineScope(SupervisorJob() + timerContext)
    private var requestedPort = port
    private var server: EmbeddedServer<NettyApplicationEngine, NettyApplicationEngine.Configuration>? = null
    private var started = false
    private var closed = false

    /** The bound port, once [start] has run. */
    public var port: Int = 0
        private set

    /** The server's base URL, such as `http://127.0.0.1:41234`, once [start] has run. */
    public val baseUrl: URI
        get() = URI("http://$host:$port")

    /** Whether the server is accepting connections. */
    public val isOnline: Boolean
        @Synchronized get() = server != null

    /**
     * Binds the port and starts serving. Returns this server.
     *
     * @throws IllegalStateException if it was already started or is closed.
     * @throws java.io.IOException if the port cannot be bound.
     */
    @Synchronized
    public fun start(): IngestionServer {
        check(!closed) { "IngestionServer is closed" }
        check(!started) { "IngestionServer is already started" }
        started = true
        bind()
        return this
    }

    /**
     * Stops accepting connections: closes the listening socket and every open connection, so
     * in-flight requests fail on the client. Does nothing if already offline.
     *
     * @throws IllegalStateException if the server was never started or is closed.
     */
    @Synchronized
    public fun goOffline() {
        check(started && !closed) { "IngestionServer is not running" }
        server?.stop(gracePeriodMillis = 0, timeoutMillis = 500)
        server = null
    }

    /**
     * Binds the same port again and serves. Does nothing if already online.
     *
     * @throws IllegalStateException if the server was never started or is closed.
     * @throws java.io.IOException if the port cannot be bound again within a few seconds.
     */
    @Synchronized
    public fun goOnline() {
        check(started && !closed) { "IngestionServer is not running" }
        if (server == null) bind()
    }

    /**
     * Goes offline now and back online after [duration], without blocking the caller.
     *
     * @throws IllegalStateException if the server was never started or is closed.
     */
    public fun goOfflineFor(duration: Duration) {
        goOffline()
        timers.launch {
            delay(duration)
            synchronized(this@IngestionServer) { if (!closed) goOnline() }
        }
    }

    /** Stops the server for good. Safe to call twice. */
    @Synchronized
    override fun close() {
        if (closed) return
        closed = true
        timers.cancel()
        server?.stop(gracePeriodMillis = 0, timeoutMillis = 500)
        server = null
    }

    private fun bind() {
        var attempts = 0
        while (true) {
            val candidate = embeddedServer(Netty, port = requestedPort, host = host) {
                // From a request handler: let the answer go out, then stop on another thread.
                ingestion(store, faults, maxBatchBytes, goOffline = { timers.launch { delay(100.milliseconds); goOfflineFor(it) } })
                modules.forEach { it() }
            }
            try {
                candidate.start(wait = false)
            } catch (e: BindException) {
                candidate.stop(0, 0)
                // A just-closed listener can hold the port for a moment; the port must not change.
                if (++attempts >= 100 || requestedPort == 0) throw e
                Thread.sleep(50)
                continue
            }
            server = candidate
            port = runBlocking { candidate.engine.resolvedConnectors().first().port }
            requestedPort = port
            return
        }
    }

    override fun toString(): String = "IngestionServer(${if (started) baseUrl else "not started"}, online=$isOnline)"
}
