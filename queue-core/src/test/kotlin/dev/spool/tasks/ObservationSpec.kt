package dev.spool.tasks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlin.time.Duration.Companion.seconds

class ObservationSpec : FunSpec({
    test("stats are cached until the next write here or the TTL, whichever comes first") {
        val clock = MutableClock()
        val path = tempTasksDb()
        val config = TaskQueueConfig(clock = clock, statsTtl = 2.seconds)
        TaskQueue.open(path, config).use { q ->
            TaskQueue.open(path, config).use { otherProcess ->
                q.enqueue("job", payload(1))
                q.stats().count(TaskState.QUEUED) shouldBe 1
                otherProcess.enqueue("job", payload(2))
                q.stats().count(TaskState.QUEUED) shouldBe 1
                clock.advance(2.seconds)
                q.stats().count(TaskState.QUEUED) shouldBe 2
                q.enqueue("job", payload(3))
                q.stats().count(TaskState.QUEUED) shouldBe 3
            }
        }
    }
})
