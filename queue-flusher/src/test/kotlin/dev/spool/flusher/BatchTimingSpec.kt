package dev.spool.flusher

import dev.spool.queue.BlockingOfflineQueue
import dev.spool.queue.OfflineQueue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.job
import kotlinx.coroutines.test.TestScope
import kotlinx.coroutines.test.advanceTimeBy
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Batch firing on virtual time. The flusher's timer runs on runTest's scheduler (its
 * backgroundScope); the deletes run on the queue's writer thread. Checks use the blocking facade,
 * so the test thread never suspends and the scheduler cannot skip ahead behind our back.
 */
@OptIn(ExperimentalCoroutinesApi::class)
class BatchTimingSpec : FunSpec({
    fun withTenEvents(block: suspend TestScope.(BlockingOfflineQueue) -> Unit) {
        OfflineQueue.openBlocking(tempDb()).use { q ->
            repeat(10) { q.queueEvent(event(it)) }
            runTest { block(q) }
        }
    }

    test("a batch fires as soon as maxBatch ids are pending, without waiting for maxDelay") {
        withTenEvents { q ->
            SyncedRowFlusher(q.queue, FlusherConfig(maxBatch = 4, maxDelay = 1.seconds), backgroundScope).use { f ->
                f.markSynced(ids(0, 1, 2))
                runCurrent()
                q.barrier()
                q.sizeFromDisk() shouldBe 10
                f.pending shouldBe 3

                f.markSynced(ids(3))
                runCurrent()
                q.barrier()
                q.sizeFromDisk() shouldBe 6
                q.size() shouldBe 6
                f.pending shouldBe 0
                testScheduler.currentTime shouldBe 0
            }
        }
    }

    test("a batch fires maxDelay after the first pending id, and later ids do not restart the clock") {
        withTenEvents { q ->
            SyncedRowFlusher(q.queue, FlusherConfig(maxBatch = 100, maxDelay = 100.milliseconds), backgroundScope).use { f ->
                f.markSynced(ids(0, 1))
                runCurrent()
                advanceTimeBy(60.milliseconds)
                f.markSynced(ids(2))
                runCurrent()
                advanceTimeBy(39.milliseconds)
                runCurrent()
                q.barrier()
                q.sizeFromDisk() shouldBe 10
                f.pending shouldBe 3

                advanceTimeBy(1.milliseconds)
                runCurrent()
                q.barrier()
                q.sizeFromDisk() shouldBe 7
                q.size() shouldBe 7
                f.pending shouldBe 0
            }
        }
    }

    test("after a batch the clock starts again at the next pending id") {
        withTenEvents { q ->
            SyncedRowFlusher(q.queue, FlusherConfig(maxBatch = 100, maxDelay = 100.milliseconds), backgroundScope).use { f ->
                f.markSynced(ids(0))
                runCurrent()
                advanceTimeBy(100.milliseconds)
                runCurrent()
                q.barrier()
                runCurrent()
                q.sizeFromDisk() shouldBe 9

                advanceTimeBy(500.milliseconds) // Idle: nothing pending, nothing fires.
                f.markSynced(ids(1))
                runCurrent()
                advanceTimeBy(99.milliseconds)
                runCurrent()
                q.barrier()
                q.sizeFromDisk() shouldBe 9

                advanceTimeBy(1.milliseconds)
                runCurrent()
                q.barrier()
                q.sizeFromDisk() shouldBe 8
            }
        }
    }

    test("the timer is one child of the given scope and ends with close") {
        withTenEvents { q ->
            val f = SyncedRowFlusher(q.queue, FlusherConfig(), backgroundScope)
            runCurrent()
            backgroundScope.coroutineContext.job.children.count() shouldBe 1
            f.close()
            runCurrent()
            backgroundScope.coroutineContext.job.children.count() shouldBe 0
        }
    }
})
