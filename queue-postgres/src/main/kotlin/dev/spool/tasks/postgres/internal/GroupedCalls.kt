package dev.spool.tasks.postgres.internal

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield
import java.util.concurrent.ConcurrentLinkedQueue

/**
 * Runs calls that arrive together as one: the PostgreSQL queue's group commit for acks.
 *
 * A caller adds its request, yields once (so callers started with it on the same event loop, such
 * as a worker's handlers finishing at once, add theirs), then takes every request waiting (up to
 * [maxGroup]) and hands them to [run]: one statement and one commit for all. Callers whose request
 * another caller took just wait for their result. A lone caller runs its own request after the
 * one yield, so nothing waits for company. Groups formed by different callers run in parallel
 * (on connections of their own), so concurrent workers are not serialized behind one another;
 * the server's own group commit then shares their flushes.
 *
 * [run] returns one result per request, in order. If it throws, every request of that group fails
 * with the exception. A group is never cancelled half-way (other callers depend on it); a cancelled
 * caller still has its request run, as a call already sent to the server would.
 */
internal class GroupedCalls<Q, R>(
    private val maxGroup: Int,
    private val run: suspend (List<Q>) -> List<R>,
) {
    private class Pending<Q, R>(val request: Q) {
        val result = CompletableDeferred<R>()

        @Volatile var taken = false
    }

    private val waiting = ConcurrentLinkedQueue<Pending<Q, R>>()

    suspend fun call(request: Q): R {
        val pending = Pending<Q, R>(request)
        waiting.add(pending)
        withContext(NonCancellable) {
            yield()
            // Until this request is in some group: take what is waiting and run it. Every caller
            // does this for its own request, so none is left behind.
            while (!pending.taken) {
                val group = ArrayList<Pending<Q, R>>()
                while (group.size < maxGroup) group += (waiting.poll() ?: break).also { it.taken = true }
                if (group.isNotEmpty()) runGroup(group)
            }
        }
        return pending.result.await()
    }

    private suspend fun runGroup(group: List<Pending<Q, R>>) {
        try {
            val results = run(group.map { it.request })
            check(results.size == group.size) { "a group of ${group.size} returned ${results.size} results" }
            group.forEachIndexed { i, p -> p.result.complete(results[i]) }
        } catch (t: Throwable) {
            group.forEach { it.result.completeExceptionally(t) }
        }
    }
}
