package dev.spool.samples.client

import dev.spool.samples.Wire

/** What became of one batch upload, as reported by an [IngestionApi]. */
public sealed interface UploadResult {
    /**
     * The server answered with a verdict per event.
     *
     * @property verdicts the server's status for each event id it answered for. An event
     *   missing here was not answered and is left untouched.
     * @property errors the server's message for events answered `error`.
     */
    public class Answered(
        public val verdicts: Map<String, Wire.Status>,
        public val errors: Map<String, String> = emptyMap(),
    ) : UploadResult {
        override fun toString(): String = "Answered(${verdicts.size} verdicts)"
    }

    /** The server answered 413: the batch is larger than its limit. */
    public data object TooLarge : UploadResult

    /**
     * The server refused the whole batch for something about it (a 4xx other than 401 and 413).
     *
     * @property httpStatus the HTTP status.
     */
    public data class Refused(val httpStatus: Int) : UploadResult

    /**
     * The upload failed for reasons unrelated to the events: 401, 5xx, a connection error, a
     * timeout or an unreadable answer. The same batch may succeed later.
     *
     * @property reason a short description for logs.
     * @property cause the exception, if any.
     */
    public data class Transient(val reason: String, val cause: Throwable? = null) : UploadResult
}
