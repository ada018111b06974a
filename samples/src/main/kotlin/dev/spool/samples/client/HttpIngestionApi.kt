package dev.spool.samples.client

import dev.spool.samples.Wire
import kotlinx.coroutines.future.await
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.contentOrNull
import java.io.IOException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toJavaDuration

/**
 * Uploads batches over HTTP with the JDK's [HttpClient]: gzip-compressed JSON, `POST` to
 * [Wire.BATCH_PATH] under [baseUrl], answers mapped to [UploadResult]:
 * - 200 with `{"results":[…]}`: [UploadResult.Answered];
 * - 413: [UploadResult.TooLarge];
 * - 401, 408, 429 and 5xx, connection errors and timeouts, and an unreadable 200:
 *   [UploadResult.Transient];
 * - any other 4xx: [UploadResult.Refused].
 *
 * **Threading.** Safe for concurrent use; the client's connection pool is shared.
 *
 * @param baseUrl the server, such as `http://127.0.0.1:8080`.
 * @param token sent as `Authorization: Bearer …`.
 * @param timeout the limit for one request, connecting included.
 */
public class HttpIngestionApi(
    private val baseUrl: URI,
    private val token: String = "sample-token",
    private val timeout: Duration = 10.seconds,
) : IngestionApi {
    private val client: HttpClient = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout.toJavaDuration())
        .build()

    override suspend fun upload(batch: Batch): UploadResult {
        val request = HttpRequest.newBuilder(baseUrl.resolve(Wire.BATCH_PATH))
            .timeout(timeout.toJavaDuration())
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .header("Authorization", "Bearer $token")
            .POST(HttpRequest.BodyPublishers.ofByteArray(batch.gzipped()))
            .build()
        val response = try {
            client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).await()
        } catch (e: IOException) {
            return UploadResult.Transient("I/O error: ${e.javaClass.simpleName}", e)
        }
        return when (val status = response.statusCode()) {
            200 -> parse(response.body())
            413 -> UploadResult.TooLarge
            401, 408, 429 -> UploadResult.Transient("HTTP $status")
            in 500..599 -> UploadResult.Transient("HTTP $status")
            in 400..499 -> UploadResult.Refused(status)
            else -> UploadResult.Transient("HTTP $status")
        }
    }

    private fun parse(body: String): UploadResult = try {
        val verdicts = HashMap<String, Wire.Status>()
        val errors = HashMap<String, String>()
        for (element in (Json.parseToJsonElement(body) as JsonObject)["results"] as JsonArray) {
            val result = element as JsonObject
            val id = (result["event_id"] as? JsonPrimitive)?.contentOrNull ?: continue
            val status = (result["status"] as? JsonPrimitive)?.contentOrNull?.let(Wire.Status::fromJson) ?: continue
            verdicts[id] = status
            (result["error"] as? JsonPrimitive)?.contentOrNull?.let { errors[id] = it }
        }
        UploadResult.Answered(verdicts, errors)
    } catch (e: RuntimeException) {
        UploadResult.Transient("unreadable answer: ${e.message}", e)
    }

    override fun toString(): String = "HttpIngestionApi($baseUrl)"
}
