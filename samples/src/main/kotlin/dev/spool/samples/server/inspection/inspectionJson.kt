package dev.spool.samples.server.inspection

import dev.spool.queue.QueueStats
import dev.spool.tasks.Task
import dev.spool.tasks.TaskState
import dev.spool.tasks.TaskStats
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.add
import kotlinx.serialization.json.addJsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonArray
import kotlinx.serialization.json.putJsonObject

/** The offline queue's part of `GET /queue/stats`; see openapi.json `OfflineQueueStats`. */
internal fun QueueStats.toJson(cachedSize: Int, pendingAcknowledgements: Int, walBytes: Long?): JsonObject = buildJsonObject {
    put("size", cachedSize)
    put("totalQueued", totalQueued)
    put("maxQueueSize", maxQueueSize)
    put("totalRetried", totalRetried)
    put("oldestEventAgeMs", oldestEventAge?.inWholeMilliseconds)
    put("pendingAcknowledgements", pendingAcknowledgements)
    put("walBytes", walBytes)
    putJsonObject("retryDistribution") { retryDistribution.forEach { (bucket, count) -> put(bucket, count) } }
    putJsonArray("topEventTypes") {
        topEventTypes.forEach { (type, count) ->
            addJsonObject {
                put("type", type)
                put("count", count)
            }
        }
    }
}

/** The task queue's part of `GET /queue/stats`; see openapi.json `TaskQueueStats`. */
internal fun TaskStats.toJson(): JsonObject = buildJsonObject {
    putJsonObject("byState") { TaskState.entries.forEach { put(it.name, count(it)) } }
    putJsonObject("depth") {
        depth.toSortedMap().forEach { (type, states) ->
            putJsonObject(type) { states.forEach { (state, count) -> put(state.name, count) } }
        }
    }
    put("oldestQueuedAgeMs", oldestQueuedAge?.inWholeMilliseconds)
    put("succeeded", succeeded)
    put("failed", failed)
    put("activeWorkers", activeWorkers)
}

/** One task; see openapi.json `Task`. Times are ISO-8601 UTC instants. */
internal fun Task.toJson(): JsonObject = buildJsonObject {
    put("id", id.value)
    put("type", type)
    put("state", state.name)
    put("priority", priority)
    put("attempts", attempts)
    put("maxAttempts", maxAttempts)
    put("payload", embedded(payload))
    put("runAfter", runAfter.toString())
    putJsonArray("requires") { requires.sorted().forEach { add(it) } }
    put("idempotencyKey", idempotencyKey)
    put("leaseOwner", leaseOwner)
    put("leaseExpiresAt", leaseExpiresAt?.toString())
    put("lastError", lastError)
    put("createdAt", createdAt.toString())
    put("updatedAt", updatedAt.toString())
}

/** The payload as embedded JSON; as a string if it somehow is not JSON. */
private fun embedded(payload: String): JsonElement =
    runCatching { Json.parseToJsonElement(payload) }.getOrElse { JsonPrimitive(payload) }
