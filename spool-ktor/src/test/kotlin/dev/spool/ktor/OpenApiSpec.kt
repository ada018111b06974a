package dev.spool.ktor

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.ktor.server.application.pluginOrNull
import io.ktor.server.routing.HttpMethodRouteSelector
import io.ktor.server.routing.PathSegmentConstantRouteSelector
import io.ktor.server.routing.PathSegmentParameterRouteSelector
import io.ktor.server.routing.PathSegmentTailcardRouteSelector
import io.ktor.server.routing.RoutingNode
import io.ktor.server.routing.RoutingRoot
import io.ktor.server.routing.getAllRoutes
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.booleanOrNull
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.longOrNull

/**
 * The OpenAPI document cannot drift from the routes: every mounted route is documented and every
 * documented route is mounted, and real answers (successes and errors) match the documented schemas.
 */
class OpenApiSpec : FunSpec({
    test("the document lists exactly the routes mounted below the API root") {
        Served.open { adminToken = ADMIN }.use { s ->
            val root = s.server.application.pluginOrNull(RoutingRoot)!!
            val mounted = root.getAllRoutes()
                .mapNotNull { node -> (node.selector as? HttpMethodRouteSelector)?.let { it.method.value.lowercase() to pathOf(node) } }
                .filter { (_, path) -> path.startsWith("/spool/api/") && !path.endsWith("{...}") }
                .map { (method, path) -> "$method ${path.removePrefix("/spool/api")}" }
                .toSet()

            val doc = s.api("/openapi.json").json
            doc["openapi"]!!.jsonPrimitive.content shouldBe "3.0.3"
            doc["servers"]!!.jsonArray[0].jsonObject["url"]!!.jsonPrimitive.content shouldBe "/spool/api"
            val documented = doc["paths"]!!.jsonObject.flatMap { (path, ops) -> ops.jsonObject.keys.map { "$it $path" } }.toSet()
            documented shouldBe mounted
            // Every path parameter in a path is declared, and every declared one is in the path.
            for ((path, ops) in doc["paths"]!!.jsonObject) {
                for ((_, op) in ops.jsonObject) {
                    val declared = (op.jsonObject["parameters"] as? JsonArray).orEmpty().map { it.jsonObject }
                        .filter { it["in"]!!.jsonPrimitive.content == "path" }.map { it["name"]!!.jsonPrimitive.content }.toSet()
                    withClue(path) { declared shouldBe Regex("\\{(\\w+)}").findAll(path).map { it.groupValues[1] }.toSet() }
                }
            }
        }
    }

    test("real answers of every route match the documented schemas") {
        Served.open { adminToken = ADMIN }.use { s ->
            s.events.queueEvent(dev.spool.queue.QueueEvent("e1", "click", """{"x":1}""", projectId = "p"))
            s.tasks.schedule("hourly", "report", "{}", dev.spool.tasks.Recurrence.Every(kotlin.time.Duration.parse("1h")))
            s.tasks.claim("w-lease", types = setOf("report")).single()
            val live = s.tasks.enqueue("email", """{"to":"a@b.c"}""", idempotencyKey = "k", requires = setOf("smtp"))
            val dead = s.tasks.deadLetter()
            val doc = s.api("/openapi.json").json
            val paths = doc["paths"]!!.jsonObject
            val checked = mutableSetOf<String>()

            fun check(method: String, template: String, concrete: String, status: Int = 200) {
                val reply = if (method == "get") s.api(concrete, ADMIN) else s.post("/spool/api$concrete", ADMIN)
                withClue("$method $concrete -> ${reply.body}") {
                    reply.status shouldBe status
                    val op = paths[template]!!.jsonObject[method]!!.jsonObject
                    val schema = op["responses"]!!.jsonObject[status.toString()]!!.jsonObject["content"]!!
                        .jsonObject["application/json"]!!.jsonObject["schema"]!!.jsonObject
                    validate(doc, schema, reply.element, "$").shouldBeEmpty()
                }
                if (status == 200) checked += "$method $template"
            }

            check("get", "/queues", "/queues")
            check("get", "/overview", "/overview")
            check("get", "/offline/{queue}/stats", "/offline/events/stats")
            check("get", "/offline/{queue}/events", "/offline/events/events")
            check("get", "/tasks/{queue}/stats", "/tasks/jobs/stats")
            check("get", "/tasks/{queue}/tasks", "/tasks/jobs/tasks?limit=1")
            check("get", "/tasks/{queue}/dead-letters", "/tasks/jobs/dead-letters")
            check("get", "/tasks/{queue}/tasks/{id}", "/tasks/jobs/tasks/${dead.value}")
            check("get", "/tasks/{queue}/workers", "/tasks/jobs/workers")
            check("get", "/tasks/{queue}/throughput", "/tasks/jobs/throughput")
            check("get", "/openapi.json", "/openapi.json")
            check("get", "/tasks/{queue}/schedules", "/tasks/jobs/schedules")
            check("get", "/tasks/{queue}/tasks", "/tasks/jobs/tasks?state=leased")
            check("post", "/tasks/{queue}/schedules/{name}/pause", "/tasks/jobs/schedules/hourly/pause")
            check("post", "/tasks/{queue}/schedules/{name}/resume", "/tasks/jobs/schedules/hourly/resume")
            check("post", "/tasks/{queue}/schedules/{name}/pause", "/tasks/jobs/schedules/missing/pause", 404)
            check("post", "/tasks/{queue}/tasks/{id}/requeue", "/tasks/jobs/tasks/${dead.value}/requeue")
            check("post", "/tasks/{queue}/tasks/{id}/cancel", "/tasks/jobs/tasks/${live.value}/cancel")
            check("post", "/tasks/{queue}/purge", "/tasks/jobs/purge?olderThanSeconds=3600")
            // Documented errors have the documented shape.
            check("get", "/tasks/{queue}/tasks", "/tasks/jobs/tasks?limit=0", 400)
            check("get", "/tasks/{queue}/tasks/{id}", "/tasks/jobs/tasks/77777", 404)
            check("post", "/tasks/{queue}/tasks/{id}/cancel", "/tasks/jobs/tasks/${live.value}/cancel", 409)

            checked shouldBe paths.flatMap { (path, ops) -> ops.jsonObject.keys.map { "$it $path" } }.toSet()
        }
    }
})

private fun pathOf(node: RoutingNode): String {
    val segments = ArrayDeque<String>()
    var current: RoutingNode? = node
    while (current != null) {
        when (val selector = current.selector) {
            is PathSegmentConstantRouteSelector -> segments.addFirst(selector.value)
            is PathSegmentParameterRouteSelector -> segments.addFirst("{${selector.name}}")
            is PathSegmentTailcardRouteSelector -> segments.addFirst("{...}")
            else -> Unit
        }
        current = current.parent
    }
    return "/" + segments.joinToString("/")
}

/** The problems of [value] against an OpenAPI 3.0 [schema] (the subset the document uses). */
private fun validate(doc: JsonObject, schema: JsonObject, value: JsonElement, at: String): List<String> {
    schema["\$ref"]?.let { ref ->
        val name = ref.jsonPrimitive.content.removePrefix("#/components/schemas/")
        return validate(doc, doc["components"]!!.jsonObject["schemas"]!!.jsonObject[name]!!.jsonObject, value, at)
    }
    if (value is JsonNull) return if (schema["nullable"]?.jsonPrimitive?.booleanOrNull == true) emptyList() else listOf("$at is null")
    schema["allOf"]?.let { all -> return all.jsonArray.flatMap { validate(doc, it.jsonObject, value, at) } }
    val problems = mutableListOf<String>()
    when (schema["type"]?.jsonPrimitive?.content) {
        null -> Unit // any value
        "object" -> {
            if (value !is JsonObject) return listOf("$at is not an object")
            val properties = schema["properties"]?.jsonObject ?: JsonObject(emptyMap())
            schema["required"]?.jsonArray?.map { it.jsonPrimitive.content }?.forEach { if (it !in value) problems += "$at.$it is missing" }
            for ((key, v) in value) {
                val extra = schema["additionalProperties"]
                val propertySchema = properties[key]?.jsonObject ?: (extra as? JsonObject)
                when {
                    propertySchema != null -> problems += validate(doc, propertySchema, v, "$at.$key")
                    extra is JsonPrimitive && extra.booleanOrNull == false -> problems += "$at.$key is not documented"
                }
            }
        }
        "array" -> {
            if (value !is JsonArray) return listOf("$at is not an array")
            value.forEachIndexed { i, item -> problems += validate(doc, schema["items"]!!.jsonObject, item, "$at[$i]") }
        }
        "string" -> {
            if (value !is JsonPrimitive || !value.isString) return listOf("$at is not a string")
            schema["enum"]?.jsonArray?.map { it.jsonPrimitive.content }?.let { if (value.content !in it) problems += "$at '${value.content}' is not in $it" }
            if (schema["format"]?.jsonPrimitive?.content == "date-time") runCatching { java.time.Instant.parse(value.content) }.onFailure { problems += "$at is not a date-time" }
        }
        "integer" -> if (value !is JsonPrimitive || value.isString || value.longOrNull == null) problems += "$at is not an integer"
        "boolean" -> if (value !is JsonPrimitive || value.isString || value.booleanOrNull == null) problems += "$at is not a boolean"
        else -> problems += "$at has an unknown schema type"
    }
    return problems
}
