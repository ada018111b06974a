package dev.spool.samples

/**
 * The ingestion protocol shared by the sample server and the sample client.
 *
 * `POST` [BATCH_PATH] takes a gzip-compressed JSON body `{"events":[...]}` (header
 * `Content-Encoding: gzip`). Each event is an object with `event_id`, `event_type`, `timestamp`
 * (epoch milliseconds) and `payload` (any JSON). The answer is `200` with
 * `{"results":[{"event_id":"…","status":"success|duplicate|error","error":"…"}]}`, one entry per
 * event; `413` when the decompressed body is larger than the server's byte limit; `401` or `5xx`
 * when the server refuses the whole batch.
 *
 * `GET` [COUNT_PATH] answers `{"count":…,"received":…,"duplicates":…,"errors":…}`.
 *
 * `POST` [FAULTS_PATH] sets fault switches from query parameters; see
 * [dev.spool.samples.server.Faults].
 */
public object Wire {
    /** Where batches are posted. */
    public const val BATCH_PATH: String = "/api/v1/events/batch"

    /** Where the stored event count is read. */
    public const val COUNT_PATH: String = "/api/v1/events/count"

    /** Where fault switches are read (`GET`) and set (`POST` with query parameters). */
    public const val FAULTS_PATH: String = "/api/v1/faults"

    /** The server's default limit on a decompressed batch body, in bytes. */
    public const val DEFAULT_MAX_BATCH_BYTES: Int = 512 * 1024

    /** The per-event statuses a server answers with. */
    public enum class Status(
        /** The status as it appears in JSON. */
        public val json: String,
    ) {
        /** The event was stored. */
        SUCCESS("success"),

        /** The event's id was already stored; nothing was stored again. */
        DUPLICATE("duplicate"),

        /** The server refused this event. */
        ERROR("error"),
        ;

        /** Lookups by JSON name. */
        public companion object {
            /** The status named [json], or null if there is none. */
            public fun fromJson(json: String): Status? = entries.firstOrNull { it.json == json }
        }
    }
}
