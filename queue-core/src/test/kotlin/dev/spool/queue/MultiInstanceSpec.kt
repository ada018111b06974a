package dev.spool.queue

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import java.nio.file.Path
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/**
 * Several [OfflineQueue] instances on one file, in one process and in several: the cap is
 * checked inside the same `BEGIN IMMEDIATE` transaction as the insert, against a count that
 * `PRAGMA data_version` keeps honest. A trigger installed in the file records the most rows the
 * table ever held after an insert, so even a transient third row would be caught.
 */
class MultiInstanceSpec : FunSpec({

    val capOf2 = QueueConfig(maxQueueSize = 2, strictCap = 2, busyTimeout = 60.seconds)

    fun watchedFile(): Path {
        val db = tempDb()
        OfflineQueue.open(db).close()
        installCapWatch(db)
        return db
    }

    test("two instances in one process appending under a strict cap of 2 never store a third row") {
        val db = watchedFile()
        val inserted = AtomicInteger()
        val refused = AtomicInteger()
        val synced = AtomicInteger()
        val failures = ConcurrentLinkedQueue<Throwable>()
        OfflineQueue.open(db, capOf2).use { a ->
            OfflineQueue.open(db, capOf2).use { b ->
                coroutineScope {
                    for ((name, q) in listOf("a" to a, "b" to b)) {
                        repeat(4) { caller ->
                            launch(Dispatchers.Default) {
                                for (i in 0 until 150) {
                                    val event = QueueEvent("$name-$caller-$i", "race", "{}")
                                    try {
                                        q.append(event)
                                        inserted.incrementAndGet()
                                        if (i % 2 == 0) synced.addAndGet(q.markSynced(listOf(event.eventId)))
                                    } catch (e: OfflineQueueFullException) {
                                        refused.incrementAndGet()
                                    } catch (e: Throwable) {
                                        failures += e
                                    }
                                }
                            }
                        }
                    }
                }
                failures.shouldBeEmpty()
                refused.get() shouldBeGreaterThan 0
                capHighWater(db) shouldBeLessThanOrEqual 2
                a.sizeFromDisk() shouldBe inserted.get() - synced.get()
                a.sizeFromDisk() shouldBeLessThanOrEqual 2
            }
        }
    }

    test("two instances in one process evicting at a cap of 2 never store a third row") {
        val db = watchedFile()
        val inserted = AtomicInteger()
        val evicted = AtomicInteger()
        OfflineQueue.open(db, capOf2).use { a ->
            OfflineQueue.open(db, capOf2).use { b ->
                coroutineScope {
                    for ((name, q) in listOf("a" to a, "b" to b)) {
                        repeat(4) { caller ->
                            launch(Dispatchers.Default) {
                                for (i in 0 until 150) {
                                    val result = q.queueEvent(QueueEvent("$name-$caller-$i", "race", "{}"))
                                    if (result.outcome == EnqueueOutcome.INSERTED) inserted.incrementAndGet()
                                    evicted.addAndGet(result.evicted)
                                }
                            }
                        }
                    }
                }
                inserted.get() shouldBe 2 * 4 * 150
                capHighWater(db) shouldBeLessThanOrEqual 2
                a.sizeFromDisk() shouldBe 2
                evicted.get() shouldBe inserted.get() - 2 // every eviction was needed, none double-counted
            }
        }
    }

    test("an instance's size() follows another instance's commits without writing itself") {
        val db = tempDb()
        OfflineQueue.open(db, capOf2).use { a ->
            OfflineQueue.open(db, capOf2).use { b ->
                a.append(event(1))
                a.size() shouldBe 1
                b.size() shouldBe 1 // a's commit moved data_version: b recounted

                b.append(event(2))
                b.size() shouldBe 2
                a.size() shouldBe 2

                val full = shouldThrow<OfflineQueueFullException> { a.append(event(3)) }
                full.current shouldBe 2

                b.markSynced(listOf("e1", "e2")) shouldBe 2
                a.size() shouldBe 0
                a.sizeFromDisk() shouldBe 0
            }
        }
    }

    fun raceProcesses(mode: String, perCaller: Int): Pair<Path, List<Map<String, Int>>> {
        val db = watchedFile()
        val children = listOf("p", "q").map { prefix ->
            ChildJvm(CapRaceChild::class, listOf(db.toString(), mode, perCaller.toString(), prefix), db.parent)
        }
        try {
            children.forEach { it.awaitLine("ready") }
            children.forEach { it.send("go") }
            val results = children.map { child ->
                val line = child.awaitLine("result ")
                withClue(child.stderrText()) {
                    child.awaitExit() shouldBe 0
                    parseRaceResult(line)["errors"] shouldBe 0
                }
                parseRaceResult(line)
            }
            return db to results
        } finally {
            children.forEach { it.close() }
        }
    }

    test("two processes appending under a strict cap of 2 never store a third row") {
        val (db, results) = raceProcesses("strict", perCaller = 300)
        val inserted = results.sumOf { it.getValue("inserted") }
        val synced = results.sumOf { it.getValue("synced") }
        results.sumOf { it.getValue("refused") } shouldBeGreaterThan 0
        capHighWater(db) shouldBeLessThanOrEqual 2
        withQueue(path = db) { q ->
            q.sizeFromDisk() shouldBe inserted - synced
            q.size() shouldBe q.sizeFromDisk()
        }
    }

    test("two processes evicting at a cap of 2 never store a third row") {
        val (db, results) = raceProcesses("evicting", perCaller = 300)
        val inserted = results.sumOf { it.getValue("inserted") }
        inserted shouldBe 2 * 4 * 300
        results.sumOf { it.getValue("evicted") } shouldBe inserted - 2
        capHighWater(db) shouldBeLessThanOrEqual 2
        withQueue(path = db) { q -> q.sizeFromDisk() shouldBe 2 }
    }
})
