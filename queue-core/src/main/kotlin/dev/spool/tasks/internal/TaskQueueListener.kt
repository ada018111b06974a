package dev.spool.tasks.internal

import dev.spool.tasks.TaskTransition

/**
 * Instrumentation of a [RealTaskQueue], for [dev.spool.tasks.micrometer.TaskQueueMetrics]. With
 * no listener attached the queue reads no clock for it.
 */
internal interface TaskQueueListener {
    /** A transaction committed these transitions and refused or swept [leaseLosses] leases. Writer thread. */
    fun committed(transitions: List<TaskTransition>, leaseLosses: Int)

    /** A claim took [nanos], from the caller's call to its commit. Caller's thread. */
    fun claimTimed(nanos: Long)

    /** An acknowledgement (complete, fail, release, renew) took [nanos], caller's view. Caller's thread. */
    fun ackTimed(nanos: Long)
}
