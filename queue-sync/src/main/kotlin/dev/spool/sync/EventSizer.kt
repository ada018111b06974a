package dev.spool.sync

import dev.spool.queue.QueuedEvent

/**
 * How many bytes one event adds to a request body, for [SyncConfig.maxBatchBytes].
 *
 * Give the exact size of your wire encoding when the server enforces a byte limit (separators
 * included); [DEFAULT] estimates it.
 *
 * **Threading.** Called from the sync's coroutine; it should be fast and pure.
 */
public fun interface EventSizer {
    /** The bytes [event] adds to a body; at least 0. */
    public fun bytes(event: QueuedEvent): Int

    /** Sizers provided by Spool. */
    public companion object {
        /**
         * The UTF-8 size of the payload, event id, type and project id, plus 64 bytes for field
         * names, the timestamp and separators.
         */
        @JvmField
        public val DEFAULT: EventSizer = EventSizer { event ->
            event.payload.utf8Size() + event.eventId.utf8Size() + event.eventType.utf8Size() +
                (event.projectId?.utf8Size() ?: 0) + 64
        }

        private fun String.utf8Size(): Int {
            var bytes = 0
            var i = 0
            while (i < length) {
                val c = this[i]
                bytes += when {
                    c.code < 0x80 -> 1
                    c.code < 0x800 -> 2
                    Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(this[i + 1]) -> { i++; 4 }
                    else -> 3
                }
                i++
            }
            return bytes
        }
    }
}
