package dev.spool.queue.internal

import dev.spool.queue.DeferredSync
import dev.spool.queue.QueuedEvent
import java.util.concurrent.ConcurrentHashMap

/** Revision value for an acknowledgement that deletes whatever content the row holds. */
internal const val ANY_REVISION = -1L

/**
 * Whether the acknowledgements [acks] (the live ledger or a copy of it) cover this content of a
 * row: acknowledged for [ANY_REVISION], or for exactly [revision].
 */
internal fun hides(acks: Map<String, Long>, eventId: String, revision: Long): Boolean {
    val acked = acks[eventId] ?: return false
    return acked == ANY_REVISION || acked == revision
}

/**
 * The in-memory record of acknowledged rows not yet deleted: eventId to the revision that was
 * acknowledged ([ANY_REVISION] for any). Written by callers, consumed by the writer.
 */
internal class DeferredLedger(private val flushCommand: suspend () -> Int) : DeferredSync {
    private val acks = ConcurrentHashMap<String, Long>()

    override val pending: Int get() = acks.size

    fun isEmpty(): Boolean = acks.isEmpty()

    override fun record(eventIds: Collection<String>) {
        for (id in eventIds) acks[id] = ANY_REVISION
    }

    override fun recordEvents(events: Collection<QueuedEvent>) {
        for (event in events) acks[event.eventId] = event.revision
    }

    override suspend fun flush(): Int = flushCommand()

    /** Whether reads must hide this row. */
    fun hides(eventId: String, revision: Long): Boolean = hides(acks, eventId, revision)

    /** A stable copy for the writer to delete. */
    fun snapshot(): Map<String, Long> = HashMap(acks)

    /** Forgets the entries of [deleted] that nobody re-recorded meanwhile. */
    fun forget(deleted: Map<String, Long>) {
        for ((id, revision) in deleted) acks.remove(id, revision)
    }

    /** New content was written for [eventId]: an earlier acknowledgement no longer applies. */
    fun invalidate(eventId: String) {
        if (acks.isNotEmpty()) acks.remove(eventId)
    }
}
