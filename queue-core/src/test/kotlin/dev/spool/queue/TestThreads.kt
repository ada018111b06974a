package dev.spool.queue

import java.util.concurrent.atomic.AtomicReference

/**
 * A real thread whose failure reaches the test: [join] rethrows whatever [block] threw, so an
 * assertion or an exception on a helper thread can never be swallowed by the thread's default
 * handler while the test passes.
 */
class CheckedThread(name: String, block: () -> Unit) {
    private val failure = AtomicReference<Throwable?>()
    private val thread = Thread({
        try {
            block()
        } catch (t: Throwable) {
            failure.set(t)
        }
    }, name).apply { start() }

    /** Waits for the thread and rethrows its failure, if any. */
    fun join() {
        thread.join()
        failure.get()?.let { throw AssertionError("thread '${thread.name}' failed: $it", it) }
    }
}
