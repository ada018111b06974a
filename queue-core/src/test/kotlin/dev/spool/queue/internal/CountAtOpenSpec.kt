package dev.spool.queue.internal

import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.queue.event
import dev.spool.queue.rawConnection
import dev.spool.queue.tempDb
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

class CountAtOpenSpec : FunSpec({

    test("the count at open includes a commit another connection made while the count was being read") {
        val db = tempDb()
        OfflineQueue.open(db).use { q -> repeat(2) { q.queueEvent(event(it)) } }
        var injected = false
        // The seam sees each statement just before the writer runs it: the other connection
        // commits right between the moment the count is read and data_version is read, or the
        // other way round, whichever order the queue uses.
        val observer: (String) -> Unit = { sql ->
            if (!injected && sql == "PRAGMA data_version") {
                injected = true
                rawConnection(db).use { c ->
                    c.createStatement().use {
                        it.execute("INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES ('other', 't', '{}', 1)")
                    }
                }
            }
        }
        RealOfflineQueue.open(db, QueueConfig(), observer).use { q ->
            injected shouldBe true
            q.sizes.value shouldBe 3
            q.sizeFromDisk() shouldBe 3
        }
    }
})
