package dev.spool.sync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import kotlinx.coroutines.test.advanceTimeBy
import kotlinx.coroutines.test.runCurrent
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Every built-in policy driving a real [OfflineSync] on a real queue, on virtual time: what gets
 * uploaded, and when.
 */
@OptIn(ExperimentalCoroutinesApi::class)
class FlushPolicySpec : FunSpec({
    test("onStart uploads what an earlier run left, oldest first, in batches of maxBatchEvents, at once") {
        virtualQueue(events = 250) { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { _, batch -> succeed(batch) }
            startSync(queue, uploader, SyncConfig(maxBatchEvents = 100, policy = FlushPolicy.onStart()))
            runCurrent()
            uploader.calls.map { it.ids } shouldBe listOf(ids(1..100), ids(101..200), ids(201..250))
            uploader.calls.map { it.time } shouldBe listOf(0L, 0L, 0L)
            queue.peek() shouldBe emptyList()
            advanceTimeBy(1.hours)
            uploader.calls.size shouldBe 3
        }
    }

    test("interval flushes every period, never before, and only what is pending") {
        virtualQueue(events = 3) { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { _, batch -> succeed(batch) }
            startSync(queue, uploader, SyncConfig(policy = FlushPolicy.interval(10.seconds)))
            advanceTimeBy(9_999.milliseconds)
            uploader.calls.size shouldBe 0
            advanceTimeBy(2.milliseconds)
            uploader.calls.map { it.time to it.ids } shouldBe listOf(10_000L to ids(1..3))

            queue.blocking().queueEvent(event(4))
            advanceTimeBy(10.seconds)
            uploader.calls.map { it.time to it.ids }.last() shouldBe (20_000L to ids(4..4))
            advanceTimeBy(30.seconds) // nothing pending: a flush that finds nothing uploads nothing
            uploader.calls.size shouldBe 2
        }
    }

    test("count flushes as soon as N events are pending, and acknowledged events no longer count") {
        virtualQueue { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { _, batch -> succeed(batch) }
            startSync(queue, uploader, SyncConfig(policy = FlushPolicy.count(5)))
            val blocking = queue.blocking()
            for (n in 1..4) blocking.queueEvent(event(n))
            runCurrent()
            advanceTimeBy(1.hours)
            uploader.calls.size shouldBe 0

            blocking.queueEvent(event(5))
            runCurrent()
            uploader.calls.map { it.ids } shouldBe listOf(ids(1..5))

            // The five acknowledged rows are still on disk (the flusher has not deleted them)
            // but are no longer pending: four more events do not reach the threshold.
            for (n in 6..9) blocking.queueEvent(event(n))
            runCurrent()
            queue.size() shouldBe 9
            uploader.calls.size shouldBe 1
            blocking.queueEvent(event(10))
            runCurrent()
            uploader.calls.map { it.ids }.last() shouldBe ids(6..10)
        }
    }

    test("onConnectivityRegained flushes when the network comes back, not for the state it starts in") {
        virtualQueue(events = 2) { queue ->
            val connectivity = Connectivity(initiallyOnline = true)
            val uploader = FakeUploader({ testScheduler.currentTime }) { _, batch -> succeed(batch) }
            startSync(queue, uploader, SyncConfig(policy = FlushPolicy.onConnectivityRegained()), connectivity.online)
            advanceTimeBy(1.hours)
            uploader.calls.size shouldBe 0

            connectivity.setOnline(false)
            runCurrent()
            queue.blocking().queueEvent(event(3))
            advanceTimeBy(1.hours)
            uploader.calls.size shouldBe 0

            connectivity.setOnline(true)
            runCurrent()
            uploader.calls.map { it.time to it.ids } shouldBe listOf(2.hours.inWholeMilliseconds to ids(1..3))
        }
    }

    test("onDemand uploads nothing on its own; flushNow uploads everything and says what it did") {
        virtualQueue(events = 7) { queue ->
            val uploader = FakeUploader({ testScheduler.currentTime }) { _, batch -> succeed(batch) }
            val sync = startSync(queue, uploader, SyncConfig(maxBatchEvents = 3, policy = FlushPolicy.onDemand()))
            advanceTimeBy(24.hours)
            uploader.calls.size shouldBe 0

            val result = sync.flushNow()
            result.drained shouldBe true
            result.failure shouldBe null
            result.uploaded shouldBe 7
            result.requests shouldBe 3
            sync.progress.value.uploaded shouldBe 7
            sync.progress.value.state shouldBe SyncState.IDLE
        }
    }

    test("anyOf and + trigger on any of their policies, including a user-written one") {
        virtualQueue(events = 1) { queue ->
            val signal = MutableSharedFlow<Unit>()
            val custom = FlushPolicy { signal }
            val uploader = FakeUploader({ testScheduler.currentTime }) { _, batch -> succeed(batch) }
            startSync(queue, uploader, SyncConfig(policy = custom + FlushPolicy.anyOf(FlushPolicy.interval(1.hours))))
            runCurrent()
            signal.emit(Unit)
            runCurrent()
            uploader.calls.map { it.time } shouldBe listOf(0L)

            queue.blocking().queueEvent(event(2))
            advanceTimeBy(1.hours + 1.milliseconds)
            uploader.calls.map { it.time } shouldBe listOf(0L, 1.hours.inWholeMilliseconds)
        }
    }

    test("a policy sees the pending count and the connectivity it is given") {
        virtualQueue(events = 3) { queue ->
            val seen = ArrayList<Int>()
            val spy = FlushPolicy { context -> context.pending.map { seen += it } }
            startSync(queue, FakeUploader({ 0 }) { _, b -> succeed(b) }, SyncConfig(policy = spy))
            runCurrent()
            seen shouldBe listOf(3)
        }
    }

    test("built-in policies refuse nonsense, naming the argument") {
        shouldThrow<IllegalArgumentException> { FlushPolicy.count(0) }.message shouldContain "threshold"
        shouldThrow<IllegalArgumentException> { FlushPolicy.interval(0.seconds) }.message shouldContain "period"
        shouldThrow<IllegalArgumentException> { SyncConfig(maxBatchEvents = 0) }.message shouldContain "maxBatchEvents"
        shouldThrow<IllegalArgumentException> { SyncConfig(maxBatchBytes = 0) }.message shouldContain "maxBatchBytes"
        shouldThrow<IllegalArgumentException> { SyncConfig(maxRejections = -1) }.message shouldContain "maxRejections"
        shouldThrow<IllegalArgumentException> { UploadOutcome.Failed("x", retryAfter = (-1).seconds) }.message shouldContain "retryAfter"
        FlushPolicy.DEFAULT.toString() shouldBe "onStart + count(20) + interval(30s) + onConnectivityRegained"
    }
})
