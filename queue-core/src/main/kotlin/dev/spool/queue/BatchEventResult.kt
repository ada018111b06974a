package dev.spool.queue

/**
 * The server's verdict on one uploaded event.
 *
 * @property eventId the event the verdict is for.
 * @property status what happened to it; see [SyncStatus] for what each does to the row.
 * @property error the server's message, if any. It is informational and not stored.
 */
public class BatchEventResult @JvmOverloads constructor(
    public val eventId: String,
    public val status: SyncStatus,
    public val error: String? = null,
) {
    override fun equals(other: Any?): Boolean =
        other is BatchEventResult && eventId == other.eventId && status == other.status && error == other.error

    override fun hashCode(): Int = (eventId.hashCode() * 31 + status.hashCode()) * 31 + error.hashCode()

    override fun toString(): String = "BatchEventResult(eventId=$eventId, status=$status, error=$error)"
}
