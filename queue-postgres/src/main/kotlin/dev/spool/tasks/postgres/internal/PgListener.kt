package dev.spool.tasks.postgres.internal

import org.postgresql.PGConnection
import org.slf4j.LoggerFactory
import java.sql.Connection
import java.sql.SQLException
import javax.sql.DataSource

/**
 * Holds one connection that `LISTEN`s on [channel] and hands each notification's payload to
 * [onNotify], on its own daemon thread. If the connection is lost it reconnects with backoff;
 * meanwhile workers fall back to polling, so a missed notification delays a claim by at most the
 * worker's poll interval and loses nothing.
 *
 * The connection is the queue's own for its whole life: [close] closes it and stops the thread.
 */
internal class PgListener(
    private val dataSource: DataSource,
    private val channel: String,
    name: String,
    private val onNotify: (String) -> Unit,
) : AutoCloseable {
    @Volatile private var closed = false
    @Volatile private var connection: Connection? = null
    private val thread = Thread(::run, "spool-pg-listen-$name").apply { isDaemon = true }

    fun start(): PgListener = apply { thread.start() }

    private fun run() {
        var backoff = MIN_BACKOFF_MS
        while (!closed) {
            try {
                dataSource.connection.use { c ->
                    connection = c
                    c.autoCommit = true
                    c.createStatement().use { it.execute("LISTEN $channel") }
                    val pg = c.unwrap(PGConnection::class.java)
                    backoff = MIN_BACKOFF_MS
                    while (!closed) {
                        val notifications = pg.getNotifications(POLL_MS) ?: continue
                        for (n in notifications) if (n.name == channel) onNotify(n.parameter)
                    }
                }
            } catch (e: SQLException) {
                if (closed) return
                logger.warn("LISTEN connection on {} lost; reconnecting in {} ms (workers poll meanwhile)", channel, backoff, e)
            } catch (e: RuntimeException) {
                if (closed) return
                logger.warn("LISTEN on {} failed; reconnecting in {} ms", channel, backoff, e)
            } finally {
                connection = null
            }
            try {
                Thread.sleep(backoff)
            } catch (_: InterruptedException) {
                return
            }
            backoff = (backoff * 2).coerceAtMost(MAX_BACKOFF_MS)
        }
    }

    override fun close() {
        if (closed) return
        closed = true
        thread.interrupt()
        thread.join(JOIN_MS)
        runCatching { connection?.close() }
    }

    private companion object {
        private const val POLL_MS = 250
        private const val MIN_BACKOFF_MS = 100L
        private const val MAX_BACKOFF_MS = 5_000L
        private const val JOIN_MS = 2_000L
        private val logger = LoggerFactory.getLogger(PgListener::class.java)
    }
}
