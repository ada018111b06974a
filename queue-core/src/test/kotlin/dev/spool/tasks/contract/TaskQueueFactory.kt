package dev.spool.tasks.contract

import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig

/**
 * What [TaskQueueContractSpec] needs from an implementation of [TaskQueue]: fresh, empty queues.
 * The suite passes a [TaskQueueConfig] whose clock it controls; an implementation must read
 * every time from [TaskQueueConfig.clock].
 */
abstract class TaskQueueFactory {
    /** Opens a queue on fresh, empty storage with [config]. The suite closes it. */
    abstract fun open(config: TaskQueueConfig): TaskQueue

    /**
     * Opens two queue objects on one fresh storage, as two processes would see it (separate
     * connections), or null if the implementation cannot. The suite closes both.
     */
    open fun openTwo(config: TaskQueueConfig): Pair<TaskQueue, TaskQueue>? = null
}
