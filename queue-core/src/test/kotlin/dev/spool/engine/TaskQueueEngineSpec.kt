package dev.spool.engine

import dev.spool.maintenance.Maintenance
import dev.spool.queue.rawConnection
import dev.spool.tasks.TaskFilter
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.internal.RealTaskQueue
import kotlinx.coroutines.flow.StateFlow
import java.nio.file.Path

/** The task queue under the engine contract. A row is a task whose payload is `{"n":…}`. */
object TaskContract : ContractKind("tasks") {
    override fun open(path: Path, name: String, walSizeLimitBytes: Long, checkIntegrity: Boolean): ContractQueue {
        val queue = TaskQueue.open(path, TaskQueueConfig(name = name, walSizeLimitBytes = walSizeLimitBytes, checkIntegrityOnOpen = checkIntegrity))
        return object : ContractQueue, Wrapper {
            override val host: MaintenanceHost = queue as RealTaskQueue
            override suspend fun write(n: Int) { queue.enqueue("contract", """{"n":$n}""") }
            override suspend fun writeBig(n: Int, bytes: Int) { queue.enqueue("contract", """{"n":$n,"pad":"${"x".repeat(bytes)}"}""") }
            override suspend fun count(): Int = numbers().size
            override suspend fun numbers(): Set<Int> {
                val numbers = HashSet<Int>()
                var cursor: TaskId? = null
                do {
                    val page = queue.list(TaskFilter(limit = 1000), cursor)
                    page.tasks.forEach { numbers += N.find(it.payload)!!.groupValues[1].toInt() }
                    cursor = page.nextCursor
                } while (cursor != null)
                return numbers
            }
            override val sizes: StateFlow<Int>? get() = null
            override val maintenance: Maintenance get() = Maintenance.of(queue)
            override fun close() = queue.close()
        }
    }

    override fun corruptIndex(path: Path) {
        rawConnection(path).use { c ->
            c.createStatement().use { st ->
                st.execute("PRAGMA writable_schema = ON")
                st.execute("UPDATE sqlite_schema SET sql = 'CREATE INDEX tasks_queued_id ON tasks(attempts, id)' WHERE name = 'tasks_queued_id'")
                st.execute("PRAGMA writable_schema = OFF")
            }
        }
    }

    private val N = Regex("\"n\":(\\d+)")
}

class TaskQueueEngineSpec : EngineContractSpec(TaskContract)
