package dev.spool.queue

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldBeSortedWith
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread

/**
 * Real threads hammering one queue through both APIs at once: coroutines of the suspend API
 * running on their own threads, and plain threads calling the blocking Java facade.
 */
class ConcurrencySpec : FunSpec({

    val threads = 8
    val coroutinesPerThread = 10

    /** Event `t<thread>-<n>`; even threads use coroutines, odd threads the blocking facade. */
    fun raceEvent(thread: Int, n: Int) = QueueEvent("t$thread-$n", "race", """{"t":$thread,"n":$n}""")

    /**
     * Runs [perThread] calls of [call] on each of [threads] threads, released together. Even
     * threads run [coroutinesPerThread] coroutines sharing the thread's calls (n ≡ c mod 10);
     * odd threads call through [OfflineQueue.blocking]. Returns the failures.
     */
    fun race(
        q: OfflineQueue,
        perThread: Int,
        call: suspend (api: OfflineQueue, blocking: BlockingOfflineQueue?, thread: Int, n: Int) -> Unit,
    ): List<Throwable> {
        val start = CountDownLatch(1)
        val failures = ConcurrentLinkedQueue<Throwable>()
        val workers = (0 until threads).map { t ->
            thread(name = "racer-$t") {
                start.await()
                try {
                    runBlocking {
                        if (t % 2 == 0) {
                            repeat(coroutinesPerThread) { c ->
                                launch { for (n in c until perThread step coroutinesPerThread) call(q, null, t, n) }
                            }
                        } else {
                            val blocking = q.blocking()
                            for (n in 0 until perThread) call(q, blocking, t, n)
                        }
                    }
                } catch (e: Throwable) {
                    failures += e
                }
            }
        }
        start.countDown()
        workers.forEach { it.join() }
        return failures.toList()
    }

    /** The key of the caller that enqueued [eventId] one event after another. */
    fun caller(eventId: String): String {
        val (t, n) = eventId.removePrefix("t").split('-').map(String::toInt)
        return if (t % 2 == 0) "t$t/c${n % coroutinesPerThread}" else "t$t"
    }

    fun ordinal(eventId: String) = eventId.substringAfter('-').toInt()

    test("8 threads x 5,000 enqueues through the suspend and blocking APIs are each stored exactly once") {
        val perThread = 5_000
        val total = threads * perThread
        withQueue(QueueConfig(maxQueueSize = total, strictCap = total)) { q ->
            val inserted = AtomicInteger()
            val failures = race(q, perThread) { api, blocking, t, n ->
                val event = raceEvent(t, n)
                val result = when {
                    blocking != null && n % 2 == 0 -> blocking.queueEvent(event)
                    blocking != null -> blocking.append(event)
                    n % 2 == 0 -> api.queueEvent(event)
                    else -> api.append(event)
                }
                check(result == EnqueueResult(EnqueueOutcome.INSERTED)) { "$event: $result" }
                inserted.incrementAndGet()
            }

            failures.shouldBeEmpty()
            inserted.get() shouldBe total
            q.size() shouldBe total
            q.sizeFromDisk() shouldBe total
            q.sizes.value shouldBe total
            val ids = q.peek(total + 1).map { it.eventId }
            ids.size shouldBe total
            ids.toSet() shouldBe (0 until threads).flatMap { t -> (0 until perThread).map { "t$t-$it" } }.toSet()
            // Each caller waited for one write before the next: its events stay in its order.
            ids.groupBy(::caller).values.forEach { mine -> mine.map(::ordinal).shouldBeSortedWith(naturalOrder()) }
        }
    }

    test("appends racing the strict cap while another thread syncs never take the queue past the cap") {
        val cap = 50
        val db = tempDb()
        withQueue(path = db) { } // create the schema, then watch every insert from inside the file
        installCapWatch(db)
        withQueue(QueueConfig(strictCap = cap), db) { q ->
            val accepted = AtomicInteger()
            val refused = AtomicInteger()
            val synced = AtomicInteger()
            val racing = AtomicBoolean(true)
            val syncer = CheckedThread("syncer") {
                val blocking = q.blocking()
                while (racing.get()) synced.addAndGet(blocking.markSynced(blocking.peek(7).map { it.eventId }))
            }
            val failures = race(q, perThread = 500) { api, blocking, t, n ->
                val event = raceEvent(t, n)
                try {
                    if (blocking != null) blocking.append(event) else api.append(event)
                    accepted.incrementAndGet()
                } catch (e: OfflineQueueFullException) {
                    check(e.cap == cap && e.current == cap) { "refused with cap=${e.cap} current=${e.current}" }
                    refused.incrementAndGet()
                }
            }
            racing.set(false)
            syncer.join()

            failures.shouldBeEmpty()
            (accepted.get() + refused.get()) shouldBe threads * 500
            refused.get() shouldBeGreaterThan 0
            capHighWater(db) shouldBeLessThanOrEqual cap
            q.sizeFromDisk() shouldBe accepted.get() - synced.get()
            q.size() shouldBe q.sizeFromDisk()
        }
    }

    test("queueEvent racing at the cap evicts exactly the overflow and keeps each caller's newest events") {
        val cap = 500
        val perThread = 1_000
        val db = tempDb()
        withQueue(path = db) { }
        installCapWatch(db)
        withQueue(QueueConfig(maxQueueSize = cap), db) { q ->
            val evicted = AtomicInteger()
            val failures = race(q, perThread) { api, blocking, t, n ->
                val result = if (blocking != null) blocking.queueEvent(raceEvent(t, n)) else api.queueEvent(raceEvent(t, n))
                check(result.outcome == EnqueueOutcome.INSERTED)
                evicted.addAndGet(result.evicted)
            }

            failures.shouldBeEmpty()
            evicted.get() shouldBe threads * perThread - cap
            capHighWater(db) shouldBeLessThanOrEqual cap
            q.size() shouldBe cap
            q.sizeFromDisk() shouldBe cap
            // Eviction is oldest first, so what each caller has left is the tail of its sequence.
            q.peek(cap).groupBy({ caller(it.eventId) }, { ordinal(it.eventId) }).forEach { (who, kept) ->
                val all = if (who.contains("/c")) {
                    val c = who.substringAfter("/c").toInt()
                    (c until perThread step coroutinesPerThread).toList()
                } else {
                    (0 until perThread).toList()
                }
                kept shouldBe all.takeLast(kept.size)
            }
        }
    }
})
