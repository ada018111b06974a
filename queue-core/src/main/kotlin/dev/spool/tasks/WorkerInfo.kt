package dev.spool.tasks

import java.time.Instant
import kotlin.time.Duration

/**
 * One worker in the registry of a [TaskQueue], as [TaskQueue.workers] reports it.
 *
 * @property workerId the worker's id.
 * @property capabilities what it said it can do when it last claimed or registered.
 * @property leaseTtl the lease length it claims with; [TaskQueue.heartbeat] extends its leases by it.
 * @property lastHeartbeat when it last claimed, registered or heartbeated.
 * @property stale true if [lastHeartbeat] is older than [TaskQueueConfig.staleWorkerTimeout]: its
 *   tasks will be reclaimed by the next [TaskQueue.sweep].
 */
public class WorkerInfo(
    public val workerId: String,
    public val capabilities: Set<String>,
    public val leaseTtl: Duration,
    public val lastHeartbeat: Instant,
    public val stale: Boolean,
) {
    override fun equals(other: Any?): Boolean = other is WorkerInfo &&
        other.workerId == workerId &&
        other.capabilities == capabilities &&
        other.leaseTtl == leaseTtl &&
        other.lastHeartbeat == lastHeartbeat &&
        other.stale == stale

    override fun hashCode(): Int = listOf(workerId, capabilities, leaseTtl, lastHeartbeat, stale).hashCode()

    override fun toString(): String = "WorkerInfo(workerId=$workerId, capabilities=$capabilities, leaseTtl=$leaseTtl, lastHeartbeat=$lastHeartbeat, stale=$stale)"
}
