package dev.spool.flusher

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread

class ConcurrencySpec : FunSpec({
    test("4 producers and 2 ackers on real threads move 50,000 events through the flusher and leave nothing behind") {
        val producers = 4
        val perProducer = 12_500
        withQueue { q ->
            val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
            val flusher = SyncedRowFlusher(q, FlusherConfig(), scope)
            val errors = ConcurrentLinkedQueue<Throwable>()
            val producing = CountDownLatch(producers)
            val acked = ConcurrentHashMap.newKeySet<String>()

            val threads = List(producers) { p ->
                thread(name = "producer-$p") {
                    try {
                        runBlocking { repeat(perProducer) { i -> q.queueEvent(event(i, id = "p$p-$i")) } }
                    } catch (t: Throwable) {
                        errors += t
                    } finally {
                        producing.countDown()
                    }
                }
            } + List(2) { a ->
                thread(name = "acker-$a") {
                    try {
                        runBlocking {
                            while (true) {
                                // Read the flag first: once producers are done, an empty peek means all is acked.
                                val done = producing.count == 0L
                                val batch = q.peek(limit = 500)
                                if (batch.isEmpty()) {
                                    if (done) break
                                    Thread.sleep(1)
                                    continue
                                }
                                val ids = batch.map { it.eventId }
                                flusher.markSynced(ids)
                                acked += ids
                            }
                        }
                    } catch (t: Throwable) {
                        errors += t
                    }
                }
            }
            threads.forEach { it.join() }

            errors.shouldBeEmpty()
            flusher.close()
            scope.cancel()
            acked.size shouldBe producers * perProducer
            q.peek().shouldBeEmpty()
            q.size() shouldBe 0
            q.sizeFromDisk() shouldBe 0
            flusher.pending shouldBe 0
        }
    }
})
