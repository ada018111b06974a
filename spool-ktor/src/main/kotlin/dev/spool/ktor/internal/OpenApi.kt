package dev.spool.ktor.internal

import io.ktor.http.HttpStatusCode
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.addJsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonArray
import kotlinx.serialization.json.putJsonObject

/** Generates the OpenAPI 3.0 document of [endpoints], mounted at [apiPath]. */
internal fun openApi(apiPath: String, endpoints: List<Endpoint>, auth: Auth): JsonObject = buildJsonObject {
    put("openapi", "3.0.3")
    putJsonObject("info") {
        put("title", "Spool inspection")
        put("version", "1")
        put(
            "description",
            "Inspection routes and admin actions of Spool's OfflineQueues and TaskQueues, generated from the routes " +
                "the spool-ktor plugin mounts. Errors are {error, message, field} and never carry a stack trace.",
        )
    }
    putJsonArray("servers") { addJsonObject { put("url", apiPath) } }
    putJsonObject("paths") {
        for ((path, group) in endpoints.groupBy { it.path }) {
            putJsonObject(path) {
                for (e in group) putJsonObject(e.method.value.lowercase()) { operation(e, auth) }
            }
        }
        putJsonObject(OPENAPI_PATH) {
            putJsonObject("get") {
                put("operationId", "getOpenApi")
                put("summary", "This document")
                putJsonObject("responses") {
                    putJsonObject("200") {
                        put("description", "OpenAPI 3.0 document")
                        putJsonObject("content") { putJsonObject("application/json") { putJsonObject("schema") { put("type", "object") } } }
                    }
                }
            }
        }
    }
    putJsonObject("components") {
        putJsonObject("schemas") { Schemas.all.forEach { (name, schema) -> put(name, schema.toJson()) } }
        putJsonObject("securitySchemes") {
            putJsonObject("bearer") {
                put("type", "http")
                put("scheme", "bearer")
            }
        }
    }
}

/** The document's own path below the API root. */
internal const val OPENAPI_PATH: String = "/openapi.json"

private fun kotlinx.serialization.json.JsonObjectBuilder.operation(e: Endpoint, auth: Auth) {
    put("operationId", e.operationId)
    put("summary", e.summary)
    if (e.access == Access.ADMIN || auth.readsProtected) {
        putJsonArray("security") { addJsonObject { putJsonArray("bearer") {} } }
    }
    if (e.parameters.isNotEmpty()) {
        putJsonArray("parameters") {
            for (p in e.parameters) {
                addJsonObject {
                    put("name", p.name)
                    put("in", p.location.wire)
                    put("required", p.required)
                    put("description", p.description)
                    put("schema", p.schema.toJson())
                }
            }
        }
    }
    putJsonObject("responses") {
        putJsonObject("200") {
            put("description", "OK")
            putJsonObject("content") { putJsonObject("application/json") { put("schema", e.response.toJson()) } }
        }
        val errors = sortedSetOf<Int>()
        e.errors.mapTo(errors) { it.value }
        if (e.parameters.any { it.name == "queue" }) errors += HttpStatusCode.NotFound.value
        if (e.access == Access.ADMIN) errors += listOf(HttpStatusCode.Unauthorized.value, HttpStatusCode.Forbidden.value)
        if (e.access == Access.READ && auth.readsProtected) errors += HttpStatusCode.Unauthorized.value
        errors += HttpStatusCode.ServiceUnavailable.value
        for (status in errors) {
            putJsonObject(status.toString()) {
                put("description", HttpStatusCode.fromValue(status).description)
                putJsonObject("content") { putJsonObject("application/json") { put("schema", Schemas.ref("Error").toJson()) } }
            }
        }
    }
}

