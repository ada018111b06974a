package dev.spool.ktor.internal

import dev.spool.ktor.AdminAction
import dev.spool.queue.OfflineQueue
import dev.spool.tasks.TaskQueue

/** What one installation of the plugin inspects, frozen when it is installed. */
internal class Mount(
    val basePath: String,
    val offlineQueues: Map<String, OfflineQueue>,
    val taskQueues: Map<String, TaskQueue>,
    val auth: Auth,
    val samplers: Map<String, ThroughputSampler>,
    val pollMillis: Long,
    val onAdminAction: ((AdminAction) -> Unit)?,
) {
    val apiPath: String get() = "$basePath/api"
}
