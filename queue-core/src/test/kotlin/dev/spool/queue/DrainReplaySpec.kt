package dev.spool.queue

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import java.io.IOException
import java.nio.file.Files

class DrainReplaySpec : FunSpec({
    test("drainToFile writes JSON Lines oldest first and empties the queue") {
        withQueue { q ->
            q.queueEvent(QueueEvent("a", "click", """{"x":1}""", projectId = "p", coalesceKey = "k"))
            q.queueEvent(QueueEvent("b", "view", """[1,"two"]"""))
            q.incrementRetry(listOf("b"))
            val file = tempDir().resolve("out/drained.jsonl")

            q.drainToFile(file) shouldBe 2

            q.size() shouldBe 0
            q.sizeFromDisk() shouldBe 0
            val lines = Files.readAllLines(file).map { Json.parseToJsonElement(it).jsonObject }
            lines.map { it["event_id"]!!.jsonPrimitive.content } shouldContainExactly listOf("a", "b")
            lines[0]["event_type"]!!.jsonPrimitive.content shouldBe "click"
            lines[0]["project_id"]!!.jsonPrimitive.content shouldBe "p"
            lines[0]["coalesce_key"]!!.jsonPrimitive.content shouldBe "k"
            lines[0]["payload"]!!.jsonObject["x"]!!.jsonPrimitive.int shouldBe 1
            lines[1]["retry_count"]!!.jsonPrimitive.int shouldBe 1
            (lines[1]["timestamp"]!!.jsonPrimitive.long > 0) shouldBe true
            Files.list(file.parent).use { dir -> dir.count() } shouldBe 1L
        }
    }

    test("a drained file replays into a fresh queue with the same ids in the same order") {
        val file = tempDir().resolve("drained.jsonl")
        withQueue { q ->
            (1..50).forEach { q.queueEvent(event(it, projectId = if (it % 2 == 0) "even" else null)) }
            q.incrementRetry(listOf("e7"))
            q.drainToFile(file) shouldBe 50
        }
        withQueue { fresh ->
            fresh.replayFile(file) shouldBe 50
            val rows = fresh.peek(100)
            rows.map { it.eventId } shouldContainExactly (1..50).map { "e$it" }
            rows.single { it.eventId == "e7" }.retryCount shouldBe 1
            rows.single { it.eventId == "e8" }.projectId shouldBe "even"
            fresh.size() shouldBe 50
            fresh.sizeFromDisk() shouldBe 50
        }
    }

    test("a failed write leaves the queue untouched") {
        withQueue { q ->
            (1..3).forEach { q.queueEvent(event(it)) }
            val blocker = tempDir().resolve("not-a-dir")
            Files.writeString(blocker, "a file where a directory should be")
            shouldThrow<IOException> { q.drainToFile(blocker.resolve("out.jsonl")) }
            q.size() shouldBe 3
            q.sizeFromDisk() shouldBe 3
            q.peek().map { it.eventId } shouldContainExactly listOf("e1", "e2", "e3")
        }
    }

    test("draining an empty queue writes an empty file") {
        withQueue { q ->
            val file = tempDir().resolve("empty.jsonl")
            q.drainToFile(file) shouldBe 0
            Files.size(file) shouldBe 0L
        }
    }

    test("a malformed line refuses the whole replay and names the line") {
        val file = tempDir().resolve("bad.jsonl")
        Files.writeString(
            file,
            """{"event_id":"a","event_type":"t","timestamp":1,"retry_count":0,"payload":{}}""" + "\n" + "not json\n",
        )
        withQueue { q ->
            val error = shouldThrow<InvalidEventException> { q.replayFile(file) }
            error.field shouldBe "line 2 of $file"
            q.size() shouldBe 0
        }
    }
})
