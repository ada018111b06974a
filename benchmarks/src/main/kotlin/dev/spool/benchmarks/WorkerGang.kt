package dev.spool.benchmarks

import java.util.concurrent.Callable
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.ExecutionException

/**
 * [size] platform threads that run one share of an invocation's work each and are waited for: the
 * "workers" of the task-queue comparison, the same harness for every system measured. The threads
 * live for the trial, so an invocation pays only the hand-off (microseconds), not thread starts.
 */
public class WorkerGang(public val size: Int) : AutoCloseable {
    private val pool: ExecutorService = Executors.newFixedThreadPool(size) { r ->
        Thread(r, "bench-worker").apply { isDaemon = true }
    }

    /** Runs [work] for every worker index `0 until size` on its own thread and waits for all; rethrows the first failure. */
    public fun run(work: (worker: Int) -> Unit) {
        val futures = (0 until size).map { w -> pool.submit(Callable { work(w) }) }
        try {
            futures.forEach { it.get() }
        } catch (e: ExecutionException) {
            futures.forEach { it.cancel(true) }
            throw e.cause ?: e
        }
    }

    /** Stops the threads. */
    override fun close() {
        pool.shutdownNow()
    }
}
