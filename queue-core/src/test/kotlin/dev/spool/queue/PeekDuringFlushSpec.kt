package dev.spool.queue

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.yield

class PeekDuringFlushSpec : FunSpec({
    test("an acknowledged row is never peeked again, even while a flush of it commits during the read") {
        withQueue { queue ->
            repeat(3_000) { queue.queueEvent(event(it)) }
            val acknowledged = HashSet<String>()
            val handedOutTwice = ArrayList<String>()
            coroutineScope {
                // Flushes commit continuously, racing every peek's read.
                val flusher = launch(Dispatchers.Default) {
                    while (isActive) {
                        queue.deferredSync.flush()
                        yield()
                    }
                }
                while (true) {
                    val batch = queue.peek(20)
                    if (batch.isEmpty()) break
                    batch.filter { it.eventId in acknowledged }.mapTo(handedOutTwice) { it.eventId }
                    batch.mapTo(acknowledged) { it.eventId }
                    queue.deferredSync.recordEvents(batch)
                }
                flusher.cancelAndJoin()
            }
            handedOutTwice.shouldBeEmpty()
            acknowledged.size shouldBe 3_000
            queue.deferredSync.flush()
            queue.size() shouldBe 0
            queue.sizeFromDisk() shouldBe 0
        }
    }
})
