package dev.spool.flusher

import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.InvalidEventException
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueuedEvent
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.arbitrary.arbitrary
import io.kotest.property.arbitrary.list
import io.kotest.property.checkAll
import kotlin.time.Duration.Companion.milliseconds

/** One step of a random interleaving. */
private sealed interface Op {
    data class Enqueue(val id: Int, val key: String?, val n: Int) : Op
    data class Ack(val ids: List<Int>) : Op
    data class AckRead(val limit: Int) : Op
    data object Flush : Op
    data object Tick : Op
}

private val ops: Arb<Op> = arbitrary { rs ->
    val r = rs.random
    when (r.nextInt(10)) {
        0, 1, 2, 3 -> Op.Enqueue(id = r.nextInt(8), key = listOf(null, null, "k0", "k1").random(r), n = r.nextInt(1000))
        4, 5 -> Op.Ack(List(r.nextInt(1, 4)) { r.nextInt(10) }) // e8, e9 are never enqueued.
        6 -> Op.AckRead(limit = r.nextInt(1, 4))
        7 -> Op.Flush
        else -> Op.Tick
    }
}

/** What the queue and the flusher should hold, computed without SQLite. */
private class Model(private val maxBatch: Int) {
    class Row(var id: String, val key: String?, var payload: String, var revision: Long)

    val rows = ArrayList<Row>()
    val acks = HashMap<String, Long?>() // eventId to pinned revision; null: any content.

    fun visible(): Map<String, String> =
        rows.filterNot { hidden(it) }.associate { it.id to it.payload }

    private fun hidden(row: Row): Boolean = acks.containsKey(row.id) && acks[row.id].let { it == null || it == row.revision }

    /** The queue's rules: coalesce by key, else replace by id, else insert. Null if refused. */
    fun enqueue(id: String, key: String?, payload: String): EnqueueOutcome? {
        val coalesced = key?.let { k -> rows.lastOrNull { it.key == k } }
        val outcome = when {
            coalesced != null -> {
                if (rows.any { it.id == id && it !== coalesced }) return null // eventId taken by another row.
                acks.remove(coalesced.id)
                coalesced.id = id
                coalesced.payload = payload
                coalesced.revision++
                EnqueueOutcome.COALESCED
            }
            else -> rows.firstOrNull { it.id == id }?.let {
                it.payload = payload
                it.revision++
                EnqueueOutcome.REPLACED
            } ?: run {
                rows += Row(id, key, payload, 0)
                EnqueueOutcome.INSERTED
            }
        }
        acks.remove(id)
        return outcome
    }

    fun flush(): Int {
        val deleted = rows.filter { hidden(it) }
        rows.removeAll(deleted.toSet())
        acks.clear()
        return deleted.size
    }

    /** The timer fires once maxBatch ids are pending. */
    fun afterRecord() {
        if (acks.size >= maxBatch) flush()
    }
}

class CountInvariantSpec : FunSpec({
    test("random interleavings of enqueue, markSynced and flush keep size() equal to the disk and to a model") {
        val maxBatch = 4
        val maxDelay = 50.milliseconds
        checkAll(PropTestConfig(iterations = 40), Arb.list(ops, 1..40)) { steps ->
            withQueue { q ->
                VirtualClock().use { clock ->
                    val f = SyncedRowFlusher(q, FlusherConfig(maxBatch, maxDelay), clock.scope)
                    val model = Model(maxBatch)
                    for ((i, op) in steps.withIndex()) {
                        withClue("step $i: $op of $steps") {
                            when (op) {
                                is Op.Enqueue -> {
                                    val payload = """{"n":${op.n}}"""
                                    val expected = model.enqueue("e${op.id}", op.key, payload)
                                    val actual = try {
                                        q.queueEvent(event(op.n, op.key, id = "e${op.id}", payload = payload)).outcome
                                    } catch (e: InvalidEventException) {
                                        null
                                    }
                                    actual shouldBe expected
                                }
                                is Op.Ack -> {
                                    val ids = op.ids.map { "e$it" }
                                    f.markSynced(ids)
                                    ids.forEach { model.acks[it] = null }
                                    model.afterRecord()
                                }
                                is Op.AckRead -> {
                                    val read: List<QueuedEvent> = q.peek(op.limit)
                                    f.markEventsSynced(read)
                                    read.forEach { model.acks[it.eventId] = it.revision }
                                    if (read.isNotEmpty()) model.afterRecord()
                                }
                                Op.Flush -> {
                                    f.flush() shouldBe model.flush()
                                    q.size() shouldBe q.sizeFromDisk()
                                }
                                Op.Tick -> {
                                    clock.advance(maxDelay)
                                    model.flush()
                                }
                            }
                            clock.settle(q)
                            check(q, f, model)
                        }
                    }
                    f.close()
                    model.flush()
                    check(q, f, model)
                }
            }
        }
    }
})

private suspend fun check(q: OfflineQueue, f: SyncedRowFlusher, model: Model) {
    f.pending shouldBe model.acks.size
    q.size() shouldBe model.rows.size
    q.sizeFromDisk() shouldBe q.size()
    q.peek().associate { it.eventId to it.payload } shouldBe model.visible()
    f.unsyncedSize() shouldBe (model.rows.size - model.acks.size).coerceAtLeast(0)
}
