package dev.spool.queue

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import java.nio.file.Path

/**
 * SIGKILLs a child JVM that is enqueuing from several concurrent callers, then reopens the file:
 * an enqueue that returned is durable, whatever the writer was doing when the process died.
 */
class CrashSpec : FunSpec({

    val workers = 8

    /** Runs one child until it has acknowledged [killAfter] events, kills it, returns every ack. */
    fun runAndKill(db: Path, prefix: String, killAfter: Int): List<String> =
        ChildJvm(CrashChild::class, listOf(db.toString(), prefix, workers.toString()), db.parent).use { child ->
            child.awaitLine("ready")
            val acked = ArrayList<String>()
            while (acked.size < killAfter) acked += child.readLine()
            acked += child.kill() // lines already printed when the signal landed are acknowledged too
            withClue(child.stderrText()) { child.process.exitValue() shouldBe SIGKILL_EXIT }
            acked.map { it.removePrefix("ack ") }
        }

    /** Checks the file after a crash of the run that used [prefix]; returns the rows of that run. */
    suspend fun checkAfterCrash(db: Path, prefix: String, acked: List<String>, earlier: List<String>): List<String> {
        withJdbc(db) { c ->
            c.createStatement().use { s -> s.executeQuery("PRAGMA integrity_check").use { it.next(); it.getString(1) } }
        } shouldBe "ok"
        return withQueue(path = db) { q ->
            val ids = q.peek(Int.MAX_VALUE).map { it.eventId }
            ids.toSet().size shouldBe ids.size // no duplicates
            ids shouldContainAll earlier // earlier runs survive later crashes
            ids shouldContainAll acked // every acknowledged event is there
            q.size() shouldBe q.sizeFromDisk()
            q.sizeFromDisk() shouldBe ids.size

            // Each caller wrote one event after another: on disk it must be a gap-free prefix of
            // its sequence, at most one past its last ack (committed, killed before printing).
            val mine = ids.filter { it.startsWith(prefix) }
            val byWorker = mine.groupBy({ it.removePrefix(prefix).substringBefore('-') }, { it.substringAfterLast('-').toInt() })
            val lastAck = acked.groupBy({ it.removePrefix(prefix).substringBefore('-') }, { it.substringAfterLast('-').toInt() })
                .mapValues { (_, n) -> n.max() }
            for ((worker, ordinals) in byWorker) {
                withClue("worker $worker") {
                    ordinals.sorted() shouldBe (0 until ordinals.size).toList()
                    ordinals.size - 1 shouldBeLessThanOrEqual (lastAck[worker] ?: -1) + 1
                    ordinals.size - 1 shouldBeGreaterThanOrEqual (lastAck[worker] ?: -1)
                }
            }
            mine
        }
    }

    for (killAfter in listOf(50, 500, 3_000)) {
        test("SIGKILL after $killAfter acknowledged enqueues loses none of them and duplicates none") {
            val db = tempDb()
            val acked = runAndKill(db, "r0", killAfter)
            acked.size shouldBeGreaterThanOrEqual killAfter
            checkAfterCrash(db, "r0", acked, earlier = emptyList())
        }
    }

    test("three crashes in a row on one file keep every acknowledged event of every run") {
        val db = tempDb()
        val survivors = ArrayList<String>()
        for ((run, killAfter) in listOf(200, 1, 1_000).withIndex()) {
            val prefix = "r$run"
            val acked = runAndKill(db, prefix, killAfter)
            survivors += checkAfterCrash(db, prefix, acked, earlier = survivors)
        }
    }
})
