package dev.spool.flusher

import dev.spool.queue.ChildJvm
import dev.spool.queue.OfflineQueue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import java.nio.file.Path
import java.nio.file.Paths

/**
 * Run in a child JVM by [CrashSpec]: enqueues three events, acknowledges two through a flusher
 * that never fires on its own, then dies without closing anything.
 */
object AcknowledgeThenCrash {
    @JvmStatic
    fun main(args: Array<String>) {
        val queue = OfflineQueue.open(Paths.get(args[0]))
        runBlocking {
            (1..3).forEach { queue.queueEvent(event(it)) }
            val flusher = SyncedRowFlusher(queue, manual, CoroutineScope(Dispatchers.Default))
            flusher.markSynced(ids(1, 2))
            check(queue.peek().map { it.eventId } == ids(3))
        }
        println("acknowledged")
        System.out.flush()
        Runtime.getRuntime().halt(3)
    }
}

class CrashSpec : FunSpec({
    test("rows acknowledged but not flushed when the process dies are uploaded again after the restart") {
        val path: Path = tempDb()
        ChildJvm(AcknowledgeThenCrash::class, listOf(path.toString()), path.parent).use { child ->
            child.awaitLine("acknowledged")
            child.awaitExit() shouldBe 3
        }
        withQueue(path = path) { q ->
            q.peek().map { it.eventId } shouldBe ids(1, 2, 3)
            q.size() shouldBe 3
            q.sizeFromDisk() shouldBe 3
        }
    }
})
