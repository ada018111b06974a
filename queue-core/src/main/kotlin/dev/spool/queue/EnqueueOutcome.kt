package dev.spool.queue

/** What an enqueue did to the table. */
public enum class EnqueueOutcome {
    /** A new row was added. */
    INSERTED,

    /** A row with the same eventId existed; its payload and timestamp were replaced in place. */
    REPLACED,

    /** A row with the same coalesceKey existed; it was overwritten in place with this event. */
    COALESCED,
}
