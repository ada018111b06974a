package dev.spool.samples.client

import dev.spool.queue.BatchEventResult
import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import dev.spool.samples.Wire
import dev.spool.sync.UploadOutcome
import dev.spool.sync.Uploader
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.addJsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonArray
import okhttp3.Call
import okhttp3.Callback
import okhttp3.HttpUrl
import okhttp3.HttpUrl.Companion.toHttpUrl
import okhttp3.MediaType.Companion.toMediaType
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.toRequestBody
import okhttp3.Response
import java.io.ByteArrayOutputStream
import java.io.IOException
import java.net.URI
import java.time.Instant
import java.time.ZonedDateTime
import java.time.format.DateTimeFormatter
import java.time.format.DateTimeParseException
import java.util.zip.GZIPOutputStream
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toJavaDuration

/**
 * The sample app's [Uploader]: posts a batch to the ingestion server with OkHttp (which runs on
 * Android, unlike the JDK's HttpClient) and maps the answer to an [UploadOutcome]. Everything
 * else (when to upload, batching, backoff, acknowledgements, dead letters) is
 * [dev.spool.sync.OfflineSync]'s job.
 *
 * The request is `POST` [Wire.BATCH_PATH] (or [batchPath]) with the gzip-compressed JSON body
 * `{"events":[…]}`, built with kotlinx-serialization's `JsonElement` API; each event's payload is
 * embedded as JSON (a payload that is not JSON is sent as a JSON string). Answers map as follows:
 * - 200 with `{"results":[…]}`: [UploadOutcome.Results], one [BatchEventResult] per answered
 *   event: `success` → [SyncStatus.SUCCESS], `duplicate` → [SyncStatus.DUPLICATE], `error` →
 *   [SyncStatus.REJECTED] with the server's message. An event the server did not answer is left
 *   out, so it stays queued. A 200 that cannot be read is [UploadOutcome.Failed].
 * - 413: [UploadOutcome.TooLarge] (OfflineSync halves the batch).
 * - 429 and 503: [UploadOutcome.Failed] with the `Retry-After` hint (seconds or an HTTP date),
 *   if the server sent one.
 * - other 5xx, 401 and 408, connection errors and timeouts: [UploadOutcome.Failed].
 * - any other 4xx: the server refuses the batch's content, so every event is
 *   [SyncStatus.REJECTED] (and dead-lettered by OfflineSync once rejected too often).
 *
 * Not a retrying client: OkHttp's own retries on connection failure are turned off, so that
 * OfflineSync's backoff is the only one.
 *
 * **Threading.** Safe for concurrent use; the client's connection pool and dispatcher are
 * shared. **Cancellation.** Cancelling [upload] cancels the HTTP call; the server may have
 * stored the events anyway, which is why a redelivery is answered `duplicate`.
 *
 * @param baseUrl the server, such as `http://127.0.0.1:8080`.
 * @param token sent as `Authorization: Bearer …`.
 * @param timeout the limit for one whole request, connecting included.
 * @param batchPath where batches are posted, relative to [baseUrl].
 * @param now the clock for `Retry-After` given as an HTTP date.
 * @throws IllegalArgumentException if [baseUrl] with [batchPath] is not an http(s) URL, or
 *   [timeout] is not positive.
 */
public class OkHttpUploader(
    baseUrl: URI,
    private val token: String = "sample-token",
    timeout: Duration = 10.seconds,
    batchPath: String = Wire.BATCH_PATH,
    private val now: () -> Instant = Instant::now,
) : Uploader, AutoCloseable {
    init {
        require(timeout.isPositive()) { "timeout must be positive, was $timeout" }
    }

    private val url: HttpUrl = try {
        baseUrl.resolve(batchPath).toString().toHttpUrl()
    } catch (e: IllegalArgumentException) {
        throw IllegalArgumentException("baseUrl must be an http or https URL, was $baseUrl", e)
    }

    private val client: OkHttpClient = OkHttpClient.Builder()
        .callTimeout(timeout.toJavaDuration())
        .retryOnConnectionFailure(false)
        .build()

    override suspend fun upload(batch: List<QueuedEvent>): UploadOutcome {
        val request = Request.Builder()
            .url(url)
            .header("Content-Encoding", "gzip")
            .header("Authorization", "Bearer $token")
            .post(gzip(body(batch).toString().toByteArray()).toRequestBody(JSON))
            .build()
        return try {
            client.newCall(request).await().use { response -> outcome(batch, response) }
        } catch (e: IOException) {
            UploadOutcome.Failed("I/O error: ${e.javaClass.simpleName}", cause = e)
        }
    }

    private fun outcome(batch: List<QueuedEvent>, response: Response): UploadOutcome = when (val status = response.code) {
        200 -> parse(response.body.string())
        413 -> UploadOutcome.TooLarge
        429, 503 -> UploadOutcome.Failed("HTTP $status", retryAfter(response.header("Retry-After")))
        401, 408 -> UploadOutcome.Failed("HTTP $status")
        in 400..499 -> UploadOutcome.Results(batch.map { BatchEventResult(it.eventId, SyncStatus.REJECTED, "HTTP $status") })
        else -> UploadOutcome.Failed("HTTP $status")
    }

    private fun parse(body: String): UploadOutcome = try {
        val results = ArrayList<BatchEventResult>()
        for (element in (Json.parseToJsonElement(body) as JsonObject)["results"] as JsonArray) {
            val result = element as JsonObject
            val id = (result["event_id"] as? JsonPrimitive)?.contentOrNull ?: continue
            val error = (result["error"] as? JsonPrimitive)?.contentOrNull
            val status = when ((result["status"] as? JsonPrimitive)?.contentOrNull?.let(Wire.Status::fromJson)) {
                Wire.Status.SUCCESS -> SyncStatus.SUCCESS
                Wire.Status.DUPLICATE -> SyncStatus.DUPLICATE
                Wire.Status.ERROR -> SyncStatus.REJECTED
                null -> continue
            }
            results += BatchEventResult(id, status, if (status == SyncStatus.REJECTED) error ?: "error" else null)
        }
        UploadOutcome.Results(results)
    } catch (e: RuntimeException) {
        UploadOutcome.Failed("unreadable answer: ${e.message}", cause = e)
    }

    /** `Retry-After` as delay-seconds or an HTTP date; null if absent or unreadable. */
    private fun retryAfter(value: String?): Duration? {
        val text = value?.trim()?.takeIf { it.isNotEmpty() } ?: return null
        text.toLongOrNull()?.let { return if (it >= 0) it.seconds else null }
        return try {
            val at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant()
            (at.toEpochMilli() - now().toEpochMilli()).coerceAtLeast(0).milliseconds
        } catch (_: DateTimeParseException) {
            null
        }
    }

    /** Releases the client's connections and threads. Closing twice is harmless. */
    override fun close() {
        client.dispatcher.executorService.shutdown()
        client.connectionPool.evictAll()
    }

    override fun toString(): String = "OkHttpUploader($url)"

    private companion object {
        val JSON = "application/json".toMediaType()

        /** The wire body: `event_id`, `event_type`, `project_id` if any, `timestamp`, `payload`. */
        fun body(batch: List<QueuedEvent>): JsonObject = buildJsonObject {
            putJsonArray("events") {
                for (event in batch) addJsonObject {
                    put("event_id", event.eventId)
                    put("event_type", event.eventType)
                    event.projectId?.let { put("project_id", it) }
                    put("timestamp", event.timestamp.toEpochMilli())
                    put("payload", payload(event.payload))
                }
            }
        }

        /** The payload as JSON; a payload that is not JSON goes as a string rather than block the queue. */
        fun payload(text: String): JsonElement = try {
            Json.parseToJsonElement(text)
        } catch (_: SerializationException) {
            JsonPrimitive(text)
        }

        fun gzip(bytes: ByteArray): ByteArray {
            val out = ByteArrayOutputStream(bytes.size / 4 + 64)
            GZIPOutputStream(out).use { it.write(bytes) }
            return out.toByteArray()
        }

        suspend fun Call.await(): Response = suspendCancellableCoroutine { continuation ->
            continuation.invokeOnCancellation { cancel() }
            enqueue(object : Callback {
                override fun onResponse(call: Call, response: Response) {
                    continuation.resume(response) { _, value, _ -> value.close() }
                }

                override fun onFailure(call: Call, e: IOException) {
                    continuation.resumeWithException(e)
                }
            })
        }
    }
}
