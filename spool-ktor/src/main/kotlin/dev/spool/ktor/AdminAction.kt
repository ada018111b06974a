package dev.spool.ktor

import java.time.Instant

/**
 * One admin action taken (or refused on its merits) through the inspection routes: what
 * [SpoolInspectionConfig.onAdminAction] receives and what the `dev.spool.ktor.audit` logger writes
 * as a structured event (SLF4J key-values `event`, `action`, `queue`, `target`, `outcome`,
 * `remote`) with the stable event id [LOG_EVENT].
 *
 * Calls refused for a missing or wrong token never reach an action and are not reported here.
 *
 * @property action `requeue`, `cancel`, `purge`, `pause` or `resume`.
 * @property queue the name the queue was given to the plugin.
 * @property target what the action was applied to, such as `task 42` or `olderThanSeconds=3600`.
 * @property outcome `ok: now QUEUED`, `conflict: SUCCEEDED`, `not_found` or `deleted 12`.
 * @property remoteHost the client's address as Ktor sees it.
 * @property at when the action completed, by the system clock.
 */
public class AdminAction(
    public val action: String,
    public val queue: String,
    public val target: String,
    public val outcome: String,
    public val remoteHost: String,
    public val at: Instant,
) {
    override fun toString(): String = "AdminAction($action $target on $queue -> $outcome, from $remoteHost at $at)"

    /** Constants. */
    public companion object {
        /** The `event` key of every admin-action log line. */
        public const val LOG_EVENT: String = "spool.admin_action"
    }
}
