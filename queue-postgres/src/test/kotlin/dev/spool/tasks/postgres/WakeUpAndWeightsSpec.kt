package dev.spool.tasks.postgres

import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import kotlin.time.Duration.Companion.seconds

class WakeUpAndWeightsSpec : FunSpec({
    test("an enqueue on one host reaches another host's transitions through NOTIFY") {
        PgQueue().use { pg ->
            pg.otherHost().use { other ->
                val seen = async(start = CoroutineStart.UNDISPATCHED) {
                    other.transitions.filter { it.to == TaskState.QUEUED }.first()
                }
                // The listener connects in the background; keep enqueueing until one is heard.
                val ids = ArrayList<dev.spool.tasks.TaskId>()
                val heard = withTimeout(30.seconds) {
                    while (!seen.isCompleted) {
                        ids += pg.queue.enqueue("t", "{}")
                        kotlinx.coroutines.delay(50)
                    }
                    seen.await()
                }
                (heard.taskId in ids) shouldBe true
                heard.type shouldBe "t"
            }
        }
    }

    test("weighted random claims priority 0 before priority 9 ten times in eleven") {
        PgQueue().use { pg ->
            val q = pg.queue
            val urgent = q.enqueue("t", "{}", priority = 0)
            q.enqueue("t", "{}", priority = 9)
            val rounds = 1100
            var urgentFirst = 0
            repeat(rounds) {
                val task = q.claim("w", strategy = ClaimStrategy.WEIGHTED_RANDOM, types = if (it % 2 == 0) null else setOf("t")).single()
                if (task.id == urgent) urgentFirst++
                q.release(task.lease!!)
            }
            // Expected 1000, standard deviation about 9.5: five deviations either side.
            urgentFirst.toDouble() shouldBe (1000.0 plusOrMinus 48.0)
        }
    }
})
