package dev.spool.ktor

import io.ktor.server.application.install
import io.ktor.server.engine.EmbeddedServer
import io.ktor.server.engine.embeddedServer
import io.ktor.server.netty.Netty
import io.ktor.server.netty.NettyApplicationEngine
import kotlinx.coroutines.runBlocking
import java.net.URI
import java.util.function.Consumer

/**
 * A stand-alone HTTP server (Ktor on Netty) that serves only [SpoolInspection]: for applications
 * that have no Ktor server of their own. It binds [host], loopback unless told otherwise, so the
 * dashboard is not reachable from other machines by accident.
 *
 * ```
 * InspectionServer { taskQueue("jobs", tasks) }.start().use { println("Dashboard: ${it.dashboardUrl}") … }
 * ```
 *
 * From Java: `InspectionServer.create(config -> config.taskQueue("jobs", tasks.suspending())).start()`.
 *
 * **Threading.** [start] and [close] may be called from any thread; [close] waits up to a second
 * for requests in flight. Closing twice is harmless; it does not close the queues.
 *
 * @param host the address to bind; `127.0.0.1` by default.
 * @param port the port to bind; 0 (the default) picks a free one.
 * @param configure the plugin's configuration; validated by [start].
 * @throws IllegalArgumentException if [port] is not 0 to 65535 or [host] is blank.
 */
public class InspectionServer(
    private val host: String = "127.0.0.1",
    port: Int = 0,
    private val configure: SpoolInspectionConfig.() -> Unit,
) : AutoCloseable {
    init {
        require(host.isNotBlank()) { "host must not be blank" }
        require(port in 0..65535) { "port must be between 0 and 65535, was $port" }
    }

    private val requestedPort = port
    private var server: EmbeddedServer<NettyApplicationEngine, NettyApplicationEngine.Configuration>? = null
    private var path: String = "/spool"
    private var closed = false

    /** The bound port, once [start] returned. */
    public var port: Int = 0
        private set

    /**
     * The dashboard's URL, such as `http://127.0.0.1:41234/spool/`.
     *
     * @throws IllegalStateException if the server was not started.
     */
    public val dashboardUrl: URI
        get() {
            check(port != 0) { "InspectionServer is not started" }
            return URI("http://${if (':' in host) "[$host]" else host}:$port$path/")
        }

    /**
     * Validates the configuration, binds and starts serving. Returns this server.
     *
     * @throws IllegalArgumentException if the configuration is invalid (naming the field).
     * @throws IllegalStateException if already started or closed.
     * @throws java.io.IOException if the port cannot be bound.
     */
    @Synchronized
    public fun start(): InspectionServer {
        check(!closed) { "InspectionServer is closed" }
        check(server == null) { "InspectionServer is already started" }
        val config = SpoolInspectionConfig().apply(configure)
        config.freeze() // fail here, on the caller's thread, rather than inside Netty
        path = config.path
        val candidate = embeddedServer(Netty, port = requestedPort, host = host) {
            install(SpoolInspection) { configure() }
        }
        candidate.start(wait = false)
        server = candidate
        port = runBlocking { candidate.engine.resolvedConnectors().first().port }
        return this
    }

    /** Stops the server. Safe to call twice; the queues stay open. */
    @Synchronized
    override fun close() {
        if (closed) return
        closed = true
        server?.stop(gracePeriodMillis = 100, timeoutMillis = 1000)
        server = null
    }

    override fun toString(): String = "InspectionServer(${if (port != 0) dashboardUrl else "not started"})"

    /** Factories for Java, where a lambda would otherwise have to return `Unit.INSTANCE`. */
    public companion object {
        /**
         * A server on loopback and a free port: `InspectionServer.create(config -> config.taskQueue("jobs", tasks))`.
         *
         * @param configure the plugin's configuration; validated by [start].
         */
        @JvmStatic
        public fun create(configure: Consumer<SpoolInspectionConfig>): InspectionServer =
            InspectionServer { configure.accept(this) }

        /**
         * A server on [host] and [port] (0 picks a free one).
         *
         * @param configure the plugin's configuration; validated by [start].
         * @throws IllegalArgumentException if [port] is not 0 to 65535 or [host] is blank.
         */
        @JvmStatic
        public fun create(host: String, port: Int, configure: Consumer<SpoolInspectionConfig>): InspectionServer =
            InspectionServer(host, port) { configure.accept(this) }
    }
}
