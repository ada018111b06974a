package dev.spool.ktor.internal

import dev.spool.queue.QueueStats
import dev.spool.queue.QueuedEvent
import dev.spool.tasks.Schedule
import dev.spool.tasks.Task
import dev.spool.tasks.TaskState
import dev.spool.tasks.TaskStats
import dev.spool.tasks.TaskTransition
import dev.spool.tasks.WorkerInfo
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonObjectBuilder
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.add
import kotlinx.serialization.json.addJsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonArray
import kotlinx.serialization.json.putJsonObject

// The encoders of the schemas in Schemas: one function per schema, field for field. Bodies are
// JsonElements, which ContentNegotiation writes with kotlinx-serialization's own serializer.

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
    put("lease", lease?.let { buildJsonObject { put("workerId", it.workerId); put("token", it.token) } } ?: JsonNull)
    put("leaseOwner", leaseOwner)
    put("leaseExpiresAt", leaseExpiresAt?.toString())
    put("lastError", lastError)
    put("createdAt", createdAt.toString())
    put("updatedAt", updatedAt.toString())
}

internal fun TaskTransition.toJson(): JsonObject = buildJsonObject {
    put("from", from?.name)
    put("to", to.name)
    put("at", at.toString())
    put("workerId", workerId)
    put("attempt", attempt)
    put("error", error)
}

internal fun TaskStats.toJson(): JsonObject = buildJsonObject {
    putByState(this@toJson)
    putJsonObject("depth") {
        depth.toSortedMap().forEach { (type, states) ->
            putJsonObject(type) { states.forEach { (state, n) -> put(state.name, n) } }
        }
    }
    put("oldestQueuedAgeMs", oldestQueuedAge?.inWholeMilliseconds)
    put("succeeded", succeeded)
    put("failed", failed)
    put("activeWorkers", activeWorkers)
}

internal fun JsonObjectBuilder.putByState(stats: TaskStats) {
    putJsonObject("byState") { TaskState.entries.forEach { put(it.name, stats.count(it)) } }
}

internal fun QueueStats.toJson(size: Int, pendingAcknowledgements: Int): JsonObject = buildJsonObject {
    put("size", size)
    put("totalQueued", totalQueued)
    put("maxQueueSize", maxQueueSize)
    put("totalRetried", totalRetried)
    put("oldestEventAgeMs", oldestEventAge?.inWholeMilliseconds)
    put("pendingAcknowledgements", pendingAcknowledgements)
    putJsonObject("retryDistribution") { retryDistribution.forEach { (bucket, n) -> put(bucket, n) } }
    putJsonArray("topEventTypes") {
        topEventTypes.forEach { (type, n) ->
            addJsonObject {
                put("type", type)
                put("count", n)
            }
        }
    }
}

internal fun QueuedEvent.toJson(): JsonObject = buildJsonObject {
    put("eventId", eventId)
    put("eventType", eventType)
    put("payload", embedded(payload))
    put("projectId", projectId)
    put("coalesceKey", coalesceKey)
    put("timestamp", timestamp.toString())
    put("retryCount", retryCount)
}

internal fun WorkerInfo.toJson(): JsonObject = buildJsonObject {
    put("workerId", workerId)
    putJsonArray("capabilities") { capabilities.sorted().forEach { add(it) } }
    put("leaseTtlMs", leaseTtl.inWholeMilliseconds)
    put("lastHeartbeat", lastHeartbeat.toString())
    put("stale", stale)
}

internal fun Schedule.toJson(): JsonObject = buildJsonObject {
    put("name", name)
    put("type", type)
    put("payload", embedded(payload))
    put("recurrence", recurrence.toString())
    put("misfire", misfire.name)
    put("priority", priority)
    put("maxAttempts", maxAttempts)
    putJsonArray("requires") { requires.sorted().forEach { add(it) } }
    put("paused", paused)
    put("nextFireAt", nextFireAt?.toString())
    put("pendingTaskId", pendingTaskId?.value)
    put("createdAt", createdAt.toString())
}

/** Stored JSON text as embedded JSON; as a string if it somehow is not JSON. */
private fun embedded(payload: String): JsonElement =
    runCatching { Json.parseToJsonElement(payload) }.getOrElse { JsonPrimitive(payload) }
