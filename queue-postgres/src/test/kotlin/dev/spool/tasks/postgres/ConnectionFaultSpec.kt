package dev.spool.tasks.postgres

import dev.spool.storage.QueueStorageException
import dev.spool.tasks.AckResult
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf

/**
 * Sessions of the queue's pool (and its LISTEN connection) killed with `pg_terminate_backend`:
 * each call afterwards either works (repeated on a fresh connection where that is safe, or the
 * pool replaced the dead session) or fails with [QueueStorageException]; the stored state is never
 * half-written, and the queue keeps working.
 */
class ConnectionFaultSpec : FunSpec({
    fun terminate(applicationName: String): Int = TestDatabase.sql { c ->
        c.prepareStatement(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()",
        ).use { s ->
            s.setString(1, applicationName)
            s.executeQuery().use { it.next(); it.getInt(1) }
        }
    }

    test("after its sessions are terminated, every call works or fails with QueueStorageException, and state stays whole") {
        PgQueue(poolSize = 4).use { pg ->
            val q = pg.queue
            val ids = (0 until 30).map { q.enqueue("t", "{}", idempotencyKey = "k$it") }
            var killed = 0
            var failures = 0
            repeat(10) { round ->
                killed += terminate("pool-${pg.schema}")
                val result = runCatching {
                    q.enqueue("t", "{}", idempotencyKey = "k${round % 30}") // safe: repeated transparently
                    val claimed = q.claim("w$round", limit = 3)
                    claimed.map { q.complete(it.lease!!) }
                }
                result.exceptionOrNull()?.let {
                    it.shouldBeInstanceOf<QueueStorageException>()
                    failures++
                }
                result.getOrNull()?.forEach { it shouldBe AckResult.COMPLETED }
            }
            killed shouldBeGreaterThan 0
            // The queue still works, and every task's row agrees with its log.
            q.stats().count(TaskState.QUEUED) + q.stats().count(TaskState.LEASED) + q.stats().count(TaskState.SUCCEEDED) shouldBe 30
            for (id in ids) {
                val task = q.get(id)!!
                val log = q.taskLog(id)
                log.last().to shouldBe task.state
                log.count { it.to == TaskState.SUCCEEDED } shouldBe (if (task.state == TaskState.SUCCEEDED) 1 else 0)
            }
            println("terminated $killed sessions; $failures of 10 rounds failed with QueueStorageException")
        }
    }
})
