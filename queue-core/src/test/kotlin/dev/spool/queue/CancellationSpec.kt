package dev.spool.queue

import dev.spool.queue.WriterGate.Companion.holdWriter
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.yield
import java.io.InterruptedIOException
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
import kotlin.random.Random

/**
 * What [OfflineQueue]'s KDoc promises about cancellation: a write cancelled while it still waits
 * in the buffer is dropped; one the writer already took may commit anyway; the count is right
 * either way.
 */
class CancellationSpec : FunSpec({

    test("a write cancelled while it waits in the buffer is never committed") {
        withQueue { q ->
            coroutineScope {
                val gate = holdWriter(q)
                val writes = (0 until 20).map { n -> launch(start = CoroutineStart.UNDISPATCHED) { q.queueEvent(event(n)) } }
                writes.filterIndexed { n, _ -> n % 2 == 0 }.forEach { it.cancel() }
                gate.release()
                writes.joinAll()
                writes.filterIndexed { n, _ -> n % 2 == 0 }.forEach { it.isCancelled shouldBe true }
            }
            val odd = (0 until 20).filter { it % 2 == 1 }.map { "e$it" }
            q.peek().map { it.eventId } shouldContainExactly odd
            q.size() shouldBe 10
            q.sizeFromDisk() shouldBe 10
            q.sizes.value shouldBe 10
        }
    }

    test("a write cancelled after the writer took it into a transaction still commits, and is counted") {
        withQueue { q ->
            coroutineScope {
                val first = holdWriter(q)
                // Behind the first gate: the write, then a second gate in the same group.
                val write = launch(start = CoroutineStart.UNDISPATCHED) { q.queueEvent(event(1)) }
                val inside = CountDownLatch(1)
                val release = CountDownLatch(1)
                val second = launch(start = CoroutineStart.UNDISPATCHED) {
                    real(q).onWriter {
                        inside.countDown() // the write has executed in this same open transaction
                        release.await(60, TimeUnit.SECONDS)
                    }
                }
                first.release()
                check(inside.await(60, TimeUnit.SECONDS))

                write.cancel()
                write.join()
                release.countDown()
                second.join()

                write.isCancelled shouldBe true
            }
            q.peek().map { it.eventId } shouldContainExactly listOf("e1")
            q.size() shouldBe 1
            q.sizeFromDisk() shouldBe 1
        }
    }

    test("callers cancelled at random under load, some of them suspended by backpressure, never corrupt the count") {
        withQueue(QueueConfig(writeBufferCapacity = 8, maxBatchSize = 16)) { q ->
            val returned = ConcurrentHashMap.newKeySet<String>()
            val failures = ConcurrentHashMap.newKeySet<Throwable>()
            coroutineScope {
                val random = Random(7)
                val jobs = ArrayList<Job>()
                repeat(2_000) { n ->
                    jobs += launch(Dispatchers.Default) {
                        try {
                            q.queueEvent(event(n))
                            returned += "e$n"
                        } catch (e: CancellationException) {
                            throw e
                        } catch (e: Throwable) {
                            failures += e
                        }
                    }
                    if (random.nextInt(4) == 0) yield()
                }
                // Cancel every third caller, wherever it is: not started, suspended on a full
                // buffer, waiting in the buffer, or inside a transaction.
                jobs.forEachIndexed { n, job ->
                    if (n % 3 == 0) job.cancel()
                    if (random.nextInt(8) == 0) delay(1)
                }
                jobs.joinAll()
            }

            failures.shouldBeEmpty()
            val stored = q.peek(5_000).map { it.eventId }
            stored.toSet().size shouldBe stored.size
            stored shouldContainAll returned // every caller that returned has its write on disk
            (stored.toSet() - returned).forEach { id -> (id.removePrefix("e").toInt() % 3) shouldBe 0 } // extras were cancelled
            q.size() shouldBe stored.size
            q.sizeFromDisk() shouldBe stored.size
            q.sizes.value shouldBe stored.size
        }
    }

    test("interrupting a Java caller blocked on a write abandons the wait with InterruptedIOException and keeps the count right") {
        withQueue { q ->
            val failure = AtomicReference<Throwable>()
            val stillInterrupted = AtomicReference<Boolean>()
            coroutineScope {
                val gate = holdWriter(q)
                val caller = thread(name = "java-caller") {
                    try {
                        q.blocking().queueEvent(event(1))
                    } catch (e: Throwable) {
                        failure.set(e)
                        stillInterrupted.set(Thread.currentThread().isInterrupted)
                    }
                }
                // Parked on the write (or dead, which the assertions below report).
                awaitCondition("the Java caller is parked") {
                    caller.state in setOf(Thread.State.WAITING, Thread.State.TIMED_WAITING, Thread.State.TERMINATED)
                }
                caller.interrupt()
                caller.join()
                gate.release()
                gate.job.join()
            }
            failure.get().shouldBeInstanceOf<InterruptedIOException>()
            stillInterrupted.get() shouldBe true
            // Whether the abandoned write committed is unspecified; the count is right either way.
            q.queueEvent(event(2))
            q.size() shouldBe q.sizeFromDisk()
        }
    }
})
