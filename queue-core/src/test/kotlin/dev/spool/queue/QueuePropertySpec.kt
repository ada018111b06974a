package dev.spool.queue

import dev.spool.queue.internal.RealOfflineQueue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.arbitrary.bind
import io.kotest.property.arbitrary.choose
import io.kotest.property.arbitrary.constant
import io.kotest.property.arbitrary.element
import io.kotest.property.arbitrary.enum
import io.kotest.property.arbitrary.int
import io.kotest.property.arbitrary.list
import io.kotest.property.arbitrary.map
import io.kotest.property.arbitrary.orNull
import io.kotest.property.arbitrary.set
import io.kotest.property.checkAll
import java.util.concurrent.atomic.AtomicLong

/**
 * Random sequences of every operation, run against the real queue and against [Model], a plain
 * in-memory list. After each step the contents must be equal and size() must equal the disk.
 */
@OptIn(io.kotest.common.ExperimentalKotest::class)
class QueuePropertySpec : FunSpec({
    test("random operation sequences match an in-memory model, and the count always equals the disk") {
        val seen = HashSet<String>()
        checkAll(PropTestConfig(iterations = 60, seed = 20261123), Arb.list(steps, 1..40)) { steps ->
            val path = tempDb()
            val clock = AtomicLong(1_000_000)
            val config = QueueConfig(maxQueueSize = CAP)
            var queue = RealOfflineQueue.open(path, config, clock = { clock.incrementAndGet() })
            val model = Model()
            try {
                for ((op, via) in steps) {
                    if (op is Op.Reopen) {
                        queue.close()
                        queue = RealOfflineQueue.open(path, config, clock = { clock.incrementAndGet() })
                    } else {
                        val expected = runCatching { model.apply(op) }
                        val actual = runCatching { queue.apply(op, via) }
                        seen += "via ${via.name}"
                        actual.exceptionOrNull()?.javaClass shouldBe expected.exceptionOrNull()?.javaClass
                        if (expected.isSuccess) actual.getOrNull() shouldBe expected.getOrNull()
                        seen += coverage(expected)
                    }
                    queue.peek(100).map { it.snapshot() } shouldBe model.rows()
                    queue.size() shouldBe queue.sizeFromDisk()
                    queue.size() shouldBe model.size
                }
            } finally {
                queue.close()
            }
        }
        // The sequences must actually reach the interesting paths, or the property proves little.
        seen shouldBe setOf("evicted", "coalesced", "replaced", "full", "conflict") + Via.entries.map { "via ${it.name}" }
    }
})

private const val CAP = 6

private fun coverage(outcome: Result<Any>): List<String> = when (val value = outcome.getOrNull()) {
    is EnqueueResult -> listOfNotNull(
        "evicted".takeIf { value.evicted > 0 },
        "coalesced".takeIf { value.outcome == EnqueueOutcome.COALESCED },
        "replaced".takeIf { value.outcome == EnqueueOutcome.REPLACED },
    )
    null -> when (outcome.exceptionOrNull()) {
        is OfflineQueueFullException -> listOf("full")
        is InvalidEventException -> listOf("conflict")
        else -> emptyList()
    }
    else -> emptyList()
}
private val ids = (0 until 12).map { "id$it" }

private sealed interface Op {
    data class Enqueue(val id: String, val key: String?, val project: String?, val n: Int) : Op
    data class Append(val id: String, val key: String?, val cap: Int, val n: Int) : Op
    data class MarkSynced(val ids: Set<String>) : Op
    data class IncrementRetry(val ids: Set<String>) : Op
    data class Results(val results: List<Pair<String, SyncStatus>>) : Op
    data class RemoveProject(val project: String) : Op
    data object Clear : Op
    data object Reopen : Op
}

private val operations: Arb<Op> = Arb.choose(
    8 to Arb.bind(Arb.element(ids), Arb.element("k1", "k2").orNull(0.7), Arb.element("p1", "p2").orNull(0.5), Arb.int(0..999)) { id, key, project, n ->
        Op.Enqueue(id, key, project, n)
    },
    3 to Arb.bind(Arb.element(ids), Arb.element("k1", "k2").orNull(0.7), Arb.int(1..8), Arb.int(0..999)) { id, key, cap, n ->
        Op.Append(id, key, cap, n)
    },
    1 to Arb.set(Arb.element(ids), 0..3).map(Op::MarkSynced),
    1 to Arb.set(Arb.element(ids), 0..4).map(Op::IncrementRetry),
    1 to Arb.list(Arb.bind(Arb.element(ids), Arb.element(SyncStatus.entries)) { id, s -> id to s }, 0..4).map(Op::Results),
    1 to Arb.element("p1", "p2").map(Op::RemoveProject),
    1 to Arb.constant(Op.Clear),
    1 to Arb.constant(Op.Reopen),
)



/** Which API a step goes through: every facade must keep the same semantics. */
private enum class Via { SUSPEND, BLOCKING, FUTURE }

private val steps: Arb<Pair<Op, Via>> = Arb.bind(operations, Arb.enum<Via>()) { op, via -> op to via }

private fun QueueEvent(op: Op.Enqueue) = QueueEvent(op.id, "t", """{"n":${op.n}}""", op.project, op.key)

private suspend fun OfflineQueue.apply(op: Op, via: Via): Any = when (via) {
    Via.SUSPEND -> apply(op)
    Via.BLOCKING -> blocking().apply(op)
    Via.FUTURE -> try {
        async().apply(op).get() ?: Unit
    } catch (e: java.util.concurrent.ExecutionException) {
        throw e.cause ?: e
    }
}

private fun BlockingOfflineQueue.apply(op: Op): Any = when (op) {
    is Op.Enqueue -> queueEvent(QueueEvent(op))
    is Op.Append -> append(QueueEvent(op.id, "t", """{"n":${op.n}}""", null, op.key), op.cap)
    is Op.MarkSynced -> markSynced(op.ids)
    is Op.IncrementRetry -> incrementRetry(op.ids)
    is Op.Results -> processBatchResults(op.results.map { BatchEventResult(it.first, it.second) })
    is Op.RemoveProject -> removeProjectEvents(op.project)
    Op.Clear -> clear()
    Op.Reopen -> Unit
}

private fun AsyncOfflineQueue.apply(op: Op): java.util.concurrent.CompletableFuture<out Any?> = when (op) {
    is Op.Enqueue -> queueEvent(QueueEvent(op))
    is Op.Append -> append(QueueEvent(op.id, "t", """{"n":${op.n}}""", null, op.key), op.cap)
    is Op.MarkSynced -> markSynced(op.ids)
    is Op.IncrementRetry -> incrementRetry(op.ids)
    is Op.Results -> processBatchResults(op.results.map { BatchEventResult(it.first, it.second) })
    is Op.RemoveProject -> removeProjectEvents(op.project)
    Op.Clear -> clear()
    Op.Reopen -> java.util.concurrent.CompletableFuture.completedFuture(Unit)
}

private suspend fun OfflineQueue.apply(op: Op): Any = when (op) {
    is Op.Enqueue -> queueEvent(QueueEvent(op))
    is Op.Append -> append(QueueEvent(op.id, "t", """{"n":${op.n}}""", null, op.key), op.cap)
    is Op.MarkSynced -> markSynced(op.ids)
    is Op.IncrementRetry -> incrementRetry(op.ids)
    is Op.Results -> processBatchResults(op.results.map { BatchEventResult(it.first, it.second) })
    is Op.RemoveProject -> removeProjectEvents(op.project)
    Op.Clear -> clear()
    Op.Reopen -> Unit
}

/** What the test compares: everything but the timestamp and revision, which the model does not predict. */
private data class Row(val id: String, val payload: String, val project: String?, val key: String?, val retries: Int)

private fun QueuedEvent.snapshot() = Row(eventId, payload, projectId, coalesceKey, retryCount)

/** The queue's semantics, spelled out on a list. */
private class Model {
    private class Entry(var id: String, var payload: String, var project: String?, val key: String?, var retries: Int, var seq: Long, val rowId: Long)

    private val entries = ArrayList<Entry>()
    private var seq = 0L
    private var nextRowId = 1L

    val size: Int get() = entries.size

    fun rows(): List<Row> = entries.sortedWith(compareBy({ it.seq }, { it.rowId })).take(100)
        .map { Row(it.id, it.payload, it.project, it.key, it.retries) }

    fun apply(op: Op): Any = when (op) {
        is Op.Enqueue -> enqueue(op.id, """{"n":${op.n}}""", op.project, op.key, strictCap = null)
        is Op.Append -> enqueue(op.id, """{"n":${op.n}}""", null, op.key, strictCap = op.cap)
        is Op.MarkSynced -> op.ids.sumOf { id -> if (entries.removeIf { it.id == id }) 1 else 0 }
        is Op.IncrementRetry -> op.ids.sumOf { id -> entries.filter { it.id == id }.onEach { it.retries++ }.size }
        is Op.Results -> {
            for ((id, status) in op.results) {
                when {
                    status.deletes -> entries.removeIf { it.id == id }
                    status == SyncStatus.REJECTED -> entries.filter { it.id == id }.forEach { it.retries++ }
                }
            }
        }
        is Op.RemoveProject -> entries.count { it.project == op.project }.also { entries.removeIf { e -> e.project == op.project } }
        Op.Clear -> entries.size.also { entries.clear() }
        Op.Reopen -> Unit
    }

    private fun enqueue(id: String, payload: String, project: String?, key: String?, strictCap: Int?): EnqueueResult {
        val now = ++seq
        if (key != null) {
            val target = entries.filter { it.key == key }.maxByOrNull { it.rowId }
            if (target != null) {
                if (entries.any { it !== target && it.id == id }) throw InvalidEventException("eventId", "taken")
                target.id = id
                target.payload = payload
                target.project = project
                target.seq = now
                return EnqueueResult(EnqueueOutcome.COALESCED)
            }
        }
        val existing = entries.firstOrNull { it.id == id }
        if (strictCap != null && entries.size >= strictCap) throw OfflineQueueFullException(strictCap, entries.size)
        if (existing != null) {
            existing.payload = payload
            existing.seq = now
            return EnqueueResult(EnqueueOutcome.REPLACED)
        }
        var evicted = 0
        if (strictCap == null) {
            while (entries.size >= CAP) {
                entries.remove(entries.minWith(compareBy({ it.seq }, { it.rowId })))
                evicted++
            }
        }
        entries += Entry(id, payload, project, key, 0, now, nextRowId++)
        return EnqueueResult(EnqueueOutcome.INSERTED, evicted)
    }
}
