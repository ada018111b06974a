package dev.spool.tasks

import dev.spool.tasks.contract.TaskQueueContractSpec
import dev.spool.tasks.contract.TaskQueueFactory

/** The TaskQueue contract on SQLite: a fresh file per queue, two connections for two "processes". */
class SqliteTaskQueueContractSpec : TaskQueueContractSpec(
    object : TaskQueueFactory() {
        override fun open(config: TaskQueueConfig): TaskQueue = TaskQueue.open(tempTasksDb(), config)

        override fun openTwo(config: TaskQueueConfig): Pair<TaskQueue, TaskQueue> {
            val path = tempTasksDb()
            return TaskQueue.open(path, config) to TaskQueue.open(path, config)
        }
    },
)
