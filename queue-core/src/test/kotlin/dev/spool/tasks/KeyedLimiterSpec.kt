package dev.spool.tasks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.test.runTest
import kotlinx.coroutines.yield
import java.util.concurrent.atomic.AtomicInteger
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TestTimeSource

class KeyedLimiterSpec : FunSpec({
    test("concurrency per key never exceeds its limit, default or per key") {
        val limiter = KeyedLimiter(defaultLimit = 2, limits = mapOf("slow.example" to 1))
        val running = mapOf("a.example" to AtomicInteger(), "slow.example" to AtomicInteger())
        val peak = mapOf("a.example" to AtomicInteger(), "slow.example" to AtomicInteger())
        coroutineScope {
            repeat(200) { n ->
                val key = if (n % 2 == 0) "a.example" else "slow.example"
                launch(Dispatchers.Default) {
                    limiter.withPermit(key) {
                        val now = running.getValue(key).incrementAndGet()
                        peak.getValue(key).accumulateAndGet(now, ::maxOf)
                        yield()
                        running.getValue(key).decrementAndGet()
                    }
                }
            }
        }
        peak.getValue("a.example").get() shouldBe 2
        peak.getValue("slow.example").get() shouldBe 1
    }

    test("keys do not wait for each other") {
        runTest {
            val limiter = KeyedLimiter(defaultLimit = 1)
            val blocker = CompletableDeferred<Unit>()
            val holder = launch { limiter.withPermit("a") { blocker.await() } }
            delay(1.milliseconds)
            limiter.withPermit("b") { "ran" } shouldBe "ran"
            limiter.availablePermits("a") shouldBe 0
            blocker.complete(Unit)
            holder.join()
            limiter.availablePermits("a") shouldBe 1
        }
    }

    test("cancellation while waiting or while holding never leaks a permit") {
        runTest {
            val limiter = KeyedLimiter(defaultLimit = 3)
            val random = Random(7)
            val jobs = mutableListOf<Job>()
            repeat(300) {
                jobs += launch { limiter.withPermit("host") { delay(random.nextLong(1, 50)) } }
            }
            repeat(20) {
                delay(random.nextLong(1, 30))
                jobs.filter { it.isActive }.shuffled(random).take(10).forEach { it.cancel() }
            }
            jobs.joinAll()
            limiter.availablePermits("host") shouldBe 3
            // All three permits can be held at once again.
            val held = CompletableDeferred<Unit>()
            val holders = List(3) { launch { limiter.withPermit("host") { held.await() } } }
            delay(1.milliseconds)
            limiter.availablePermits("host") shouldBe 0
            holders.forEach { it.cancelAndJoin() }
            limiter.availablePermits("host") shouldBe 3
        }
    }

    test("idle keys are evicted after the TTL so a million distinct keys stay bounded") {
        val time = TestTimeSource()
        val limiter = KeyedLimiter(defaultLimit = 1, idleTtl = 1.seconds, timeSource = time)
        var peak = 0
        runTest {
            for (n in 0 until 1_000_000) {
                limiter.withPermit("host-$n") { }
                time += 1.milliseconds
                if (n % 1000 == 0) peak = maxOf(peak, limiter.trackedKeys)
            }
        }
        // Keys used within the last TTL (1,000) plus at most half a TTL before eviction runs.
        peak shouldBeLessThanOrEqual 1_600
        time += 2.seconds
        limiter.evictIdle()
        limiter.trackedKeys shouldBe 0
    }

    test("a key in use is never evicted") {
        runTest {
            val time = TestTimeSource()
            val limiter = KeyedLimiter(defaultLimit = 1, idleTtl = 1.seconds, timeSource = time)
            val release = CompletableDeferred<Unit>()
            val holder = launch { limiter.withPermit("busy") { release.await() } }
            delay(1.milliseconds)
            time += 10.seconds
            limiter.evictIdle() shouldBe 0
            limiter.availablePermits("busy") shouldBe 0
            release.complete(Unit)
            holder.join()
            time += 10.seconds
            limiter.evictIdle() shouldBe 1
        }
    }
})
