package dev.spool.engine

import dev.spool.maintenance.Maintenance
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import dev.spool.queue.internal.RealOfflineQueue
import kotlinx.coroutines.flow.StateFlow
import java.nio.file.Path

/** The offline queue under the engine contract. */
object OfflineContract : ContractKind("offline") {
    override fun open(path: Path, name: String, walSizeLimitBytes: Long, checkIntegrity: Boolean): ContractQueue {
        val queue = OfflineQueue.open(path, QueueConfig(name = name, walSizeLimitBytes = walSizeLimitBytes, checkIntegrityOnOpen = checkIntegrity))
        return object : ContractQueue, Wrapper {
            override val host: MaintenanceHost = queue as RealOfflineQueue
            override suspend fun write(n: Int) { queue.queueEvent(QueueEvent("e$n", "contract", """{"n":$n}""")) }
            override suspend fun writeBig(n: Int, bytes: Int) { queue.queueEvent(QueueEvent("e$n", "contract", "\"${"x".repeat(bytes)}\"")) }
            override suspend fun count(): Int = queue.size()
            override suspend fun numbers(): Set<Int> = queue.peek(1_000_000).map { it.eventId.removePrefix("e").toInt() }.toSet()
            override val sizes: StateFlow<Int> get() = queue.sizes
            override val maintenance: Maintenance get() = Maintenance.of(queue)
            override fun close() = queue.close()
        }
    }

    override fun corruptIndex(path: Path) = dev.spool.queue.corruptIndex(path)
}

class OfflineQueueEngineSpec : EngineContractSpec(OfflineContract)
