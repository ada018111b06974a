package dev.spool.ktor

import dev.spool.ktor.internal.Auth
import dev.spool.ktor.internal.Mount
import dev.spool.ktor.internal.ThroughputSampler
import dev.spool.queue.OfflineQueue
import dev.spool.tasks.TaskQueue
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/**
 * What [SpoolInspection] inspects and who may do what: set inside `install(SpoolInspection) { … }`.
 *
 * Queues are added by name with [offlineQueue] and [taskQueue]; the name appears in the URLs and on
 * the dashboard. The plugin never opens or closes a queue: close them after the server stopped.
 *
 * **Access.** Read routes are open unless [readToken] is set. Admin actions (requeue, cancel,
 * purge, pause and resume a schedule) are refused with 403 unless [adminToken] is set, and then need it as
 * `Authorization: Bearer <token>`; the admin token also opens read routes. Tokens travel in a
 * header, never a cookie, so another site cannot make a browser use them (no CSRF). Serve over
 * TLS, or on loopback as [InspectionServer] does by default, when tokens are set.
 *
 * Validation happens when the plugin is installed: bad values throw [IllegalArgumentException]
 * naming the field.
 */
public class SpoolInspectionConfig {
    private val offline = LinkedHashMap<String, OfflineQueue>()
    private val tasks = LinkedHashMap<String, TaskQueue>()

    /** Where the dashboard is served; the JSON routes live below `path/api`. Default `/spool`. */
    public var path: String = "/spool"

    /** Enables admin actions for callers presenting this bearer token (at least 16 characters). Null: off. */
    public var adminToken: String? = null

    /** When set, read routes need this token or [adminToken] (at least 16 characters). Null: reads are open. */
    public var readToken: String? = null

    /** How often the dashboard refreshes its counts. Default 2 seconds. */
    public var pollInterval: Duration = 2.seconds

    /** The width of one bar of the throughput chart. Default 10 seconds. */
    public var throughputInterval: Duration = 10.seconds

    /** How far back the throughput chart reaches. Default 10 minutes. */
    public var throughputWindow: Duration = 10.minutes

    /**
     * Called after each admin action, on the request's thread, besides the structured log line.
     * Must not block for long; an exception it throws turns the answer into a 500.
     */
    public var onAdminAction: ((AdminAction) -> Unit)? = null

    /**
     * Inspects [queue] under [name].
     *
     * @throws IllegalArgumentException if [name] is not 1 to 64 letters, digits, `.`, `_` or `-`, or is taken.
     */
    public fun offlineQueue(name: String, queue: OfflineQueue) {
        checkName(name)
        offline[name] = queue
    }

    /**
     * Inspects [queue] under [name].
     *
     * @throws IllegalArgumentException if [name] is not 1 to 64 letters, digits, `.`, `_` or `-`, or is taken.
     */
    public fun taskQueue(name: String, queue: TaskQueue) {
        checkName(name)
        tasks[name] = queue
    }

    private fun checkName(name: String) {
        require(NAME.matches(name)) { "name must be 1 to 64 letters, digits, '.', '_' or '-', was '$name'" }
        require(name !in offline && name !in tasks) { "name '$name' is already used by another queue" }
    }

    internal fun freeze(): Mount {
        require(PATH.matches(path)) { "path must start with '/', not end with '/', and use letters, digits, '.', '_', '-' and '/', was '$path'" }
        require(offline.isNotEmpty() || tasks.isNotEmpty()) { "queues: add at least one offlineQueue or taskQueue" }
        adminToken?.let { require(it.isNotBlank() && it.length >= 16) { "adminToken must be at least 16 non-blank characters" } }
        readToken?.let { require(it.isNotBlank() && it.length >= 16) { "readToken must be at least 16 non-blank characters" } }
        require(pollInterval.isPositive()) { "pollInterval must be positive, was $pollInterval" }
        require(throughputInterval.isPositive()) { "throughputInterval must be positive, was $throughputInterval" }
        require(throughputWindow >= throughputInterval) { "throughputWindow must be at least throughputInterval, was $throughputWindow" }
        return Mount(
            basePath = path,
            offlineQueues = LinkedHashMap(offline),
            taskQueues = LinkedHashMap(tasks),
            auth = Auth(adminToken, readToken),
            samplers = tasks.mapValues { (_, queue) -> ThroughputSampler(queue, throughputInterval, throughputWindow) },
            pollMillis = pollInterval.inWholeMilliseconds,
            onAdminAction = onAdminAction,
        )
    }

    private companion object {
        val NAME = Regex("[A-Za-z0-9._-]{1,64}")
        val PATH = Regex("(/[A-Za-z0-9._-]+)+")
    }
}
