package dev.spool.ktor.internal

import io.ktor.http.HttpMethod
import io.ktor.http.HttpStatusCode
import kotlinx.serialization.json.JsonElement

/**
 * One JSON route: how it is mounted, who may call it, what it answers and how it is documented.
 * The routes and the OpenAPI document are both made from the one list in [Endpoints], so a route
 * cannot exist undocumented; `OpenApiSpec` checks the mounted routes and real answers against it.
 */
internal class Endpoint(
    val method: HttpMethod,
    /** Below the API root, such as `/tasks/{queue}/tasks/{id}`. */
    val path: String,
    val operationId: String,
    val summary: String,
    val access: Access,
    val parameters: List<Parameter>,
    val response: Schema,
    /** The 4xx statuses it can answer besides those of [access] and unknown queues. */
    val errors: Set<HttpStatusCode>,
    val handler: suspend (Request) -> JsonElement,
)

/** A path or query parameter, as documented. Parsing is done by [Request]. */
internal class Parameter(
    val name: String,
    val location: Location,
    val schema: Schema,
    val description: String,
    val required: Boolean = location == Location.PATH,
) {
    enum class Location(val wire: String) { PATH("path"), QUERY("query") }
}
