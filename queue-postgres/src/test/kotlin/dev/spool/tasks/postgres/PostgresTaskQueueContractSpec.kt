package dev.spool.tasks.postgres

import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.contract.TaskQueueContractSpec
import dev.spool.tasks.contract.TaskQueueFactory

/**
 * The TaskQueue contract on PostgreSQL: a fresh schema per queue, two queue objects on one schema
 * for two "hosts". The suite drives a controllable clock, so these queues read time from it
 * (`serverClock = false`); everything else is the production code path.
 */
class PostgresTaskQueueContractSpec : TaskQueueContractSpec(PostgresFactory) {
    init {
        afterSpec { PostgresFactory.closeAll() }
    }
}

private object PostgresFactory : TaskQueueFactory() {
    private val pool by lazy { TestDatabase.pool(8, "contract") }
    private val schemas = java.util.concurrent.ConcurrentLinkedQueue<String>()

    private fun open(schema: String, config: TaskQueueConfig): TaskQueue =
        PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, config, serverClock = false))

    override fun open(config: TaskQueueConfig): TaskQueue = open(TestDatabase.newSchema().also(schemas::add), config)

    override fun openTwo(config: TaskQueueConfig): Pair<TaskQueue, TaskQueue> {
        val schema = TestDatabase.newSchema().also(schemas::add)
        return open(schema, config) to open(schema, config)
    }

    fun closeAll() {
        pool.close()
        generateSequence { schemas.poll() }.forEach(TestDatabase::drop)
    }
}
