package dev.spool.engine

import kotlinx.coroutines.runBlocking
import java.io.InterruptedIOException

/**
 * Runs [body] to completion on the calling thread, for the blocking Java facades. Every blocking
 * facade of queue-core waits through this one function, so they all treat an interrupt alike:
 * the wait is abandoned with an [InterruptedIOException] naming [what] (an `IOException`, so it
 * fits the facades' `@Throws(IOException::class)`), and the thread's interrupt flag stays set. As
 * with cancellation, a write already taken by the writer may still commit.
 */
internal fun <T> awaitBlocking(what: String, body: suspend () -> T): T = try {
    runBlocking { body() }
} catch (e: InterruptedException) {
    Thread.currentThread().interrupt()
    throw InterruptedIOException("Interrupted while waiting for $what").apply { initCause(e) }
}
