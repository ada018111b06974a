package dev.spool.queue

import dev.spool.queue.internal.QueueReads
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.yield
import java.sql.DriverManager
import kotlin.random.Random

/** `peekPage`: cursor paging through the pending events in FIFO order. */
class EventPagingSpec : FunSpec({
    suspend fun pageAll(q: OfflineQueue, limit: Int, between: suspend () -> Unit = {}): List<String> {
        val seen = mutableListOf<String>()
        var cursor: EventCursor? = null
        do {
            val page = q.peekPage(limit, cursor)
            (page.events.size <= limit) shouldBe true
            seen += page.events.map { it.eventId }
            // The cursor survives a trip through text, as it makes through a URL.
            cursor = page.nextCursor?.let { EventCursor.parse(it.toString()) }
            between()
        } while (cursor != null)
        return seen
    }

    test("pages through every event once, oldest first, and the last page has no cursor") {
        withQueue { q ->
            repeat(23) { q.queueEvent(event(it)) }
            pageAll(q, 5) shouldContainExactly (0 until 23).map { "e$it" }
            val last = q.peekPage(23)
            last.events.size shouldBe 23
            last.nextCursor shouldBe null
            q.peekPage(22).nextCursor shouldBe EventCursor.parse(q.peekPage(22).nextCursor.toString())
        }
    }

    test("paging while others append and acknowledge yields each remaining event once, in order") {
        withQueue(QueueConfig(maxQueueSize = 100_000)) { q ->
            repeat(300) { q.queueEvent(event(it)) }
            val acked = java.util.concurrent.ConcurrentHashMap.newKeySet<Int>()
            val appended = java.util.concurrent.atomic.AtomicInteger()
            val seen = coroutineScope {
                launch(Dispatchers.Default) {
                    for (n in 300 until 500) {
                        q.queueEvent(event(n))
                        appended.set(n - 299)
                        yield()
                    }
                }
                launch(Dispatchers.Default) {
                    val random = Random(7)
                    repeat(60) {
                        val n = random.nextInt(300)
                        acked += n
                        q.markSynced(listOf("e$n"))
                        yield()
                    }
                }
                pageAll(q, 7) { yield() }
            }.map { it.removePrefix("e").toInt() }
            // In order, without repeats.
            seen shouldBe seen.sorted()
            seen.toSet().size shouldBe seen.size
            // Every first event not acknowledged was met, and the appended ones met are a prefix of the appends.
            seen.filter { it < 300 } shouldContainAll (0 until 300).filter { it !in acked }
            val metAppends = seen.filter { it >= 300 }
            metAppends shouldContainExactly (300 until 300 + metAppends.size).toList()
        }
    }

    test("rows acknowledged through deferredSync are left out, and the cursor still moves past them") {
        withQueue { q ->
            repeat(10) { q.queueEvent(event(it)) }
            val rows = q.peek(10)
            q.deferredSync.recordEvents(rows.subList(0, 6))
            val first = q.peekPage(2)
            first.events.map { it.eventId } shouldContainExactly listOf("e6", "e7")
            pageAll(q, 3) shouldContainExactly listOf("e6", "e7", "e8", "e9")
        }
    }

    test("a page is found through the FIFO index, not by walking the queue") {
        val path = tempDb()
        OfflineQueue.open(path).close()
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            val plan = c.createStatement().use { s ->
                s.executeQuery("EXPLAIN QUERY PLAN ${QueueReads.PAGE}").use { rs -> buildString { while (rs.next()) appendLine(rs.getString("detail")) } }
            }
            plan shouldContain "SEARCH queue USING INDEX queue_fifo"
            plan.lines().filter { it.contains("TEMP B-TREE") }.shouldBeEmpty()
        }
    }

    test("bad limits and cursor texts are refused naming the field") {
        withQueue { q ->
            shouldThrow<IllegalArgumentException> { q.peekPage(0) }.message shouldContain "limit"
        }
        for (bad in listOf("", "x", "12", "12.", ".5", "1.0", "1.-2", "1.2.3", "99999999999999999999.1", "1 .2")) {
            shouldThrow<IllegalArgumentException> { EventCursor.parse(bad) }.message shouldContain "cursor"
        }
    }
})
