package dev.spool.samples.server

import dev.spool.samples.Wire
import io.ktor.http.ContentType
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.Application
import io.ktor.server.request.contentLength
import io.ktor.server.request.header
import io.ktor.server.request.receive
import io.ktor.server.response.respondText
import io.ktor.server.routing.RoutingContext
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import kotlinx.coroutines.delay
import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonArray
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.put
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.io.IOException
import java.util.zip.GZIPInputStream
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/**
 * Installs the ingestion routes of the sample server: batch upload, count and fault switches
 * (see [Wire] for the protocol).
 *
 * Batches are handled in this order: a pending [Faults.failNext] failure answers at once; then a
 * body larger than [maxBatchBytes] (compressed per `Content-Length`, or once decompressed) gets
 * 413; then each event is checked against [Faults] and stored in [store] or counted as a
 * duplicate; then [Faults.latency] passes; then the answer is sent. A malformed body gets 400.
 *
 * Other modules (such as the `dev.spool.ktor.SpoolInspection` dashboard) can be installed beside this one; see
 * [IngestionServer].
 *
 * @param goOffline called for `POST /api/v1/faults?offlineMs=…`, after the answer is sent; null
 *   disables that switch.
 */
public fun Application.ingestion(
    store: EventStore,
    faults: Faults,
    maxBatchBytes: Int = Wire.DEFAULT_MAX_BATCH_BYTES,
    goOffline: ((Duration) -> Unit)? = null,
) {
    require(maxBatchBytes >= 1) { "maxBatchBytes must be at least 1, was $maxBatchBytes" }
    routing {
        post(Wire.BATCH_PATH) { receiveBatch(store, faults, maxBatchBytes) }
        get(Wire.COUNT_PATH) {
            val counters = store.counters()
            respondJson(
                buildJsonObject {
                    put("count", counters.count)
                    put("received", counters.received)
                    put("duplicates", counters.duplicates)
                    put("errors", counters.errors)
                },
            )
        }
        get(Wire.FAULTS_PATH) { respondJson(faults.toJson()) }
        post(Wire.FAULTS_PATH) {
            val query = call.request.queryParameters
            val offline = try {
                query["errorRate"]?.let { faults.errorRate = it.toDouble() }
                query["latencyMs"]?.let { faults.latency = it.toLong().milliseconds }
                query["rejectType"]?.let { faults.rejectedEventType = it.ifEmpty { null } }
                query["failStatus"]?.let { status -> faults.failNext(status.toInt(), query["failCount"]?.toInt() ?: 1) }
                query["offlineMs"]?.toLong()?.milliseconds
            } catch (e: IllegalArgumentException) {
                call.respondText(e.message ?: "bad fault switch", status = HttpStatusCode.BadRequest)
                return@post
            }
            if (offline != null && goOffline == null) {
                call.respondText("offlineMs is not supported here", status = HttpStatusCode.BadRequest)
                return@post
            }
            respondJson(faults.toJson())
            if (offline != null) goOffline?.invoke(offline)
        }
    }
}

private suspend fun RoutingContext.receiveBatch(store: EventStore, faults: Faults, maxBatchBytes: Int) {
    faults.takeFailure()?.let { status ->
        call.respondText("injected failure", status = HttpStatusCode.fromValue(status))
        return
    }
    val declared = call.request.contentLength()
    if (declared != null && declared > maxBatchBytes) {
        call.respondText("batch larger than $maxBatchBytes bytes", status = HttpStatusCode.PayloadTooLarge)
        return
    }
    val raw = call.receive<ByteArray>()
    val gzipped = call.request.header("Content-Encoding").equals("gzip", ignoreCase = true)
    val body = try {
        if (gzipped) gunzip(raw, maxBatchBytes) else raw.takeIf { it.size <= maxBatchBytes }
    } catch (e: IOException) {
        call.respondText("bad gzip: ${e.message}", status = HttpStatusCode.BadRequest)
        return
    }
    if (body == null) {
        call.respondText("batch larger than $maxBatchBytes bytes", status = HttpStatusCode.PayloadTooLarge)
        return
    }
    val events = try {
        ((Json.parseToJsonElement(body.decodeToString()) as JsonObject)["events"] as JsonArray).map { it as JsonObject }
    } catch (e: RuntimeException) {
        if (e !is SerializationException && e !is ClassCastException && e !is NullPointerException) throw e
        call.respondText("expected {\"events\":[…]}", status = HttpStatusCode.BadRequest)
        return
    }
    val results = buildJsonArray {
        for (event in events) {
            val id = (event["event_id"] as? JsonPrimitive)?.contentOrNull
            val type = (event["event_type"] as? JsonPrimitive)?.contentOrNull
            add(
                buildJsonObject {
                    put("event_id", id)
                    when {
                        id.isNullOrEmpty() || type.isNullOrEmpty() -> {
                            store.countError()
                            put("status", Wire.Status.ERROR.json)
                            put("error", "event_id and event_type are required")
                        }
                        faults.shouldReject(type) -> {
                            store.countError()
                            put("status", Wire.Status.ERROR.json)
                            put("error", "rejected by the server")
                        }
                        store.accept(id, event) -> put("status", Wire.Status.SUCCESS.json)
                        else -> put("status", Wire.Status.DUPLICATE.json)
                    }
                },
            )
        }
    }
    faults.latency.takeIf { it.isPositive() }?.let { delay(it) }
    respondJson(buildJsonObject { put("results", results) })
}

private suspend fun RoutingContext.respondJson(json: JsonObject) {
    call.respondText(json.toString(), ContentType.Application.Json)
}

private fun Faults.toJson(): JsonObject = buildJsonObject {
    put("errorRate", errorRate)
    put("latencyMs", latency.inWholeMilliseconds)
    put("rejectType", rejectedEventType)
    put("pendingFailures", pendingFailures)
}

/** Decompresses [bytes], or returns null as soon as the output exceeds [limit] bytes. */
private fun gunzip(bytes: ByteArray, limit: Int): ByteArray? {
    val out = ByteArrayOutputStream(minOf(limit, bytes.size * 4) + 1)
    GZIPInputStream(ByteArrayInputStream(bytes)).use { input ->
        val buffer = ByteArray(8192)
        while (true) {
            val n = input.read(buffer)
            if (n < 0) break
            if (out.size() + n > limit) return null
            out.write(buffer, 0, n)
        }
    }
    return out.toByteArray()
}
