package dev.spool.ktor

import dev.spool.ktor.internal.mountInspection
import io.ktor.server.application.ApplicationPlugin
import io.ktor.server.application.createApplicationPlugin
import io.ktor.server.routing.routing
import kotlinx.coroutines.launch

/**
 * A Ktor plugin that serves JSON inspection routes, optional admin actions and a live dashboard
 * for any number of [dev.spool.queue.OfflineQueue]s and [dev.spool.tasks.TaskQueue]s.
 *
 * ```
 * embeddedServer(Netty, port = 8080, host = "127.0.0.1") {
 *     install(SpoolInspection) {
 *         taskQueue("jobs", tasks)
 *         adminToken = System.getenv("SPOOL_ADMIN_TOKEN")
 *     }
 * }.start(wait = true)
 * ```
 *
 * Below [SpoolInspectionConfig.path] (default `/spool`) it mounts:
 * - `/` the dashboard: one static page (HTML, a script and a stylesheet, no build step) that polls
 *   the JSON routes: live counts per queue and state, a task table with state and type filters
 *   and cursor paging, pending events of offline queues with cursor paging, a task's detail, lease and transition log, dead letters with a requeue
 *   button when admin actions are on, schedules with pause and resume buttons, workers, and a
 *   chart of completions over the last minutes;
 * - `/api/…` the JSON routes, documented in OpenAPI 3.0 at `/api/openapi.json`. The document is
 *   generated from the same table the routes are mounted from.
 *
 * **Cost.** Every route the dashboard polls is a paged query (at most 500 rows, found through an
 * index from a cursor) or reads counts the queues keep, so it costs the same with a million tasks
 * or events as with ten: [dev.spool.queue.OfflineQueue.sizes] and the oldest event by the FIFO
 * index for offline queues, [dev.spool.tasks.TaskQueue.stats] (O(1) on SQLite: counts kept by
 * triggers) for task queues. `/offline/{queue}/stats` (retry buckets and top event types, which
 * group every row) is not polled: it is for a person or a script asking once, and is cached until
 * the file changes. A sampler per task queue reads the stats once per
 * [SpoolInspectionConfig.throughputInterval] for the chart; it runs in the application's scope and
 * stops with it.
 *
 * **Errors.** Every answer of `/api` is JSON. Bad input (a malformed id, cursor, state or limit, an
 * oversized page) is a 400, unknown ids and queues a 404, a missing token 401, admin actions
 * while they are off 403, an action on a task in the wrong state 409, a closed queue 503: each as
 * `{"error", "message", "field"}`, never a stack trace.
 *
 * **Threading.** Handlers run on Ktor's request coroutines and call the queues' suspending API,
 * which is safe from any number of coroutines.
 *
 * **Not** an authentication system (two static bearer tokens), a metrics exporter (see
 * `OfflineQueueMetrics`), or a way to edit tasks: the admin actions are exactly requeue, cancel,
 * purge, and pausing or resuming a schedule. The plugin binds nothing; [InspectionServer] is a server that binds loopback.
 */
public val SpoolInspection: ApplicationPlugin<SpoolInspectionConfig> =
    createApplicationPlugin("SpoolInspection", ::SpoolInspectionConfig) {
        val mount = pluginConfig.freeze()
        application.routing { mountInspection(mount) }
        for (sampler in mount.samplers.values) application.launch { sampler.run() }
    }
