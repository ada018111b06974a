package dev.spool.tasks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList

class ObservationSpec : FunSpec({
    test("stats count a write by another connection at once: nothing is cached") {
        val clock = MutableClock()
        val path = tempTasksDb()
        val config = TaskQueueConfig(clock = clock)
        TaskQueue.open(path, config).use { q ->
            TaskQueue.open(path, config).use { otherProcess ->
                q.enqueue("job", payload(1))
                q.stats().count(TaskState.QUEUED) shouldBe 1
                otherProcess.enqueue("job", payload(2))
                q.stats().count(TaskState.QUEUED) shouldBe 2
                otherProcess.complete(otherProcess.claim("w").single().lease!!)
                q.stats().count(TaskState.QUEUED) shouldBe 1
                q.stats().succeeded shouldBe 1
                q.enqueue("job", payload(3))
                otherProcess.stats().count(TaskState.QUEUED) shouldBe 2
            }
        }
    }
})
