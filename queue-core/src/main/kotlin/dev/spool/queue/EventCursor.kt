package dev.spool.queue

/**
 * A position in an [OfflineQueue]'s FIFO order, from [EventPage.nextCursor]: pass it to
 * [OfflineQueue.peekPage] to read the events after it.
 *
 * It is a position, not an offset: it names the last event handed out (by its timestamp and
 * insertion order), so events acknowledged or evicted meanwhile do not shift the next page, and
 * events appended meanwhile come after it. Its [toString] is a short text (digits, `.` and `-`)
 * that [parse] reads back, for URLs and other text channels.
 */
public class EventCursor internal constructor(
    internal val timestamp: Long,
    internal val rowId: Long,
) {
    override fun equals(other: Any?): Boolean = other is EventCursor && other.timestamp == timestamp && other.rowId == rowId

    override fun hashCode(): Int = timestamp.hashCode() * 31 + rowId.hashCode()

    /** The cursor as text, such as `1764979200000.42`; [parse] reads it back. */
    override fun toString(): String = "$timestamp.$rowId"

    /** Reads cursors back from text. */
    public companion object {
        private val FORMAT = Regex("(-?[0-9]{1,19})\\.([0-9]{1,19})")

        /**
         * The cursor whose [toString] is [text].
         *
         * @throws IllegalArgumentException naming `cursor` if [text] is not a cursor's text.
         */
        @JvmStatic
        public fun parse(text: String): EventCursor {
            val match = FORMAT.matchEntire(text)
            val timestamp = match?.groupValues?.get(1)?.toLongOrNull()
            val rowId = match?.groupValues?.get(2)?.toLongOrNull()
            require(timestamp != null && rowId != null && rowId >= 1) { "cursor must be the text of an EventCursor, such as '1764979200000.42', was '$text'" }
            return EventCursor(timestamp, rowId)
        }
    }
}
