package dev.spool.ktor.internal

import dev.spool.storage.QueueStorageException
import io.ktor.http.ContentType
import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.serialization.kotlinx.json.json
import io.ktor.server.application.ApplicationCall
import io.ktor.server.plugins.contentnegotiation.ContentNegotiation
import io.ktor.server.response.header
import io.ktor.server.response.respond
import io.ktor.server.response.respondBytes
import io.ktor.server.routing.Route
import io.ktor.server.routing.get
import io.ktor.server.routing.route
import kotlinx.coroutines.CancellationException
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement
import org.slf4j.LoggerFactory

private val logger = LoggerFactory.getLogger("dev.spool.ktor.SpoolInspection")

/** Mounts the API, its OpenAPI document and the dashboard below [Mount.basePath]. */
internal fun Route.mountInspection(mount: Mount) {
    val endpoints = Endpoints.all(mount)
    val document: JsonElement = openApi(mount.apiPath, endpoints, mount.auth)
    route(mount.apiPath) {
        install(ContentNegotiation) { json(Json { explicitNulls = true }) }
        for (endpoint in endpoints) {
            route(endpoint.path, endpoint.method) {
                handle { answer(call) { endpoint.access.let { mount.auth.check(call, it) }; endpoint.handler(Request(call, mount)) } }
            }
        }
        get(OPENAPI_PATH) { answer(call) { mount.auth.check(call, Access.READ); document } }
        // Anything else below the API root is a JSON 404, not Ktor's empty one.
        route("{...}") {
            handle { answer(call) { throw ApiError.notFound("no route ${call.request.local.method.value} ${call.request.local.uri}") } }
        }
    }
    route(mount.basePath) {
        get { dashboardFile(call, mount, "index.html") }
        get("/") { dashboardFile(call, mount, "index.html") }
        get("/dashboard.js") { dashboardFile(call, mount, "dashboard.js") }
        get("/dashboard.css") { dashboardFile(call, mount, "dashboard.css") }
    }
}

/** Runs [handler] and answers with its JSON, or with a JSON error: never a stack trace. */
private suspend fun answer(call: ApplicationCall, handler: suspend () -> JsonElement) {
    val (status, body) = try {
        HttpStatusCode.OK to handler()
    } catch (e: CancellationException) {
        throw e
    } catch (e: ApiError) {
        if (e.status == HttpStatusCode.Unauthorized) call.response.header(HttpHeaders.WWWAuthenticate, "Bearer")
        e.status to e.toJson()
    } catch (e: IllegalArgumentException) {
        // The queue refused the input (its own validation names the field in the message).
        HttpStatusCode.BadRequest to ApiError(HttpStatusCode.BadRequest, ErrorCode.BAD_REQUEST, e.message ?: "bad input").toJson()
    } catch (e: IllegalStateException) {
        logger.warn("Inspection request {} {} found the queue closed: {}", call.request.local.method.value, call.request.local.uri, e.message)
        HttpStatusCode.ServiceUnavailable to ApiError(HttpStatusCode.ServiceUnavailable, ErrorCode.UNAVAILABLE, "the queue is closed").toJson()
    } catch (e: QueueStorageException) {
        logger.error("Inspection request {} {} could not read the queue", call.request.local.method.value, call.request.local.uri, e)
        HttpStatusCode.ServiceUnavailable to ApiError(HttpStatusCode.ServiceUnavailable, ErrorCode.UNAVAILABLE, "the queue's storage failed; see the server log").toJson()
    } catch (e: Exception) {
        logger.error("Inspection request {} {} failed", call.request.local.method.value, call.request.local.uri, e)
        HttpStatusCode.InternalServerError to ApiError(HttpStatusCode.InternalServerError, ErrorCode.INTERNAL, "internal error; see the server log").toJson()
    }
    call.response.header(HttpHeaders.CacheControl, "no-store")
    call.respond(status, body)
}

private val dashboardFiles = mapOf(
    "index.html" to ContentType.Text.Html.withParameter("charset", "utf-8"),
    "dashboard.js" to ContentType.Text.JavaScript.withParameter("charset", "utf-8"),
    "dashboard.css" to ContentType.Text.CSS.withParameter("charset", "utf-8"),
)

private val resources = java.util.concurrent.ConcurrentHashMap<String, String>()

/** Serves a file of the dashboard; the page learns the API root from a meta tag filled in here. */
private suspend fun dashboardFile(call: ApplicationCall, mount: Mount, name: String) {
    val text = resources.getOrPut(name) {
        val stream = Mount::class.java.getResourceAsStream("/dev/spool/ktor/dashboard/$name")
            ?: throw IllegalStateException("dashboard file $name is missing from the classpath")
        stream.use { it.readBytes().toString(Charsets.UTF_8) }
    }
    val body = if (name == "index.html") {
        text.replace("{{BASE}}", htmlAttribute(mount.basePath)).replace("{{POLL_MS}}", mount.pollMillis.toString())
    } else {
        text
    }
    call.response.header(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    )
    call.response.header("X-Content-Type-Options", "nosniff")
    call.response.header("Referrer-Policy", "no-referrer")
    call.response.header(HttpHeaders.CacheControl, "no-store")
    call.respondBytes(body.toByteArray(Charsets.UTF_8), dashboardFiles.getValue(name))
}

private fun htmlAttribute(value: String): String =
    value.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;").replace(">", "&gt;")
