package dev.spool.engine

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.runBlocking

/**
 * Runs [block] to completion like `runBlocking`, even if the calling thread is interrupted, and
 * leaves the interrupt flag as it found it (set again if it was set or got set meanwhile).
 *
 * For `close()` paths: `runBlocking` throws `InterruptedException` on an interrupted thread,
 * which would leak whatever the close had not released yet. [block] may run more than once (it
 * is restarted after an interrupt), so it must be idempotent, such as joining a job.
 */
internal fun <T> uninterruptibly(block: suspend CoroutineScope.() -> T): T {
    var interrupted = Thread.interrupted()
    try {
        while (true) {
            try {
                return runBlocking(block = block)
            } catch (_: InterruptedException) {
                interrupted = true
            }
        }
    } finally {
        if (interrupted) Thread.currentThread().interrupt()
    }
}

/** [Thread.join] that cannot be cut short by an interrupt; restores the interrupt flag after. */
internal fun Thread.joinUninterruptibly() {
    var interrupted = Thread.interrupted()
    try {
        while (true) {
            try {
                join()
                return
            } catch (_: InterruptedException) {
                interrupted = true
            }
        }
    } finally {
        if (interrupted) Thread.currentThread().interrupt()
    }
}
