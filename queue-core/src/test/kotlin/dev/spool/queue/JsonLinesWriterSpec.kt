package dev.spool.queue

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import java.nio.file.Files

class JsonLinesWriterSpec : FunSpec({
    test("a line written for a peeked event, with a reason, is the drainToFile line plus the reason and replays the same") {
        val dir = tempDir()
        withQueue(path = dir.resolve("a.db")) { a ->
            a.queueEvent(QueueEvent("a", "click", """{"x":[1,"two"]}""", projectId = "p", coalesceKey = "k"))
            a.incrementRetry(listOf("a"))
            val peeked = a.peek().single()
            val written = StringBuilder().also { JsonLinesWriter(it).write(peeked, mapOf("reason" to "refused \"twice\"")) }.toString()

            val drained = dir.resolve("drained.jsonl")
            a.drainToFile(drained)
            val drainedLine = Files.readString(drained)
            written shouldBe drainedLine.dropLast(2) + ",\"reason\":\"refused \\\"twice\\\"\"}\n"
            Json.parseToJsonElement(written).jsonObject["reason"]!!.jsonPrimitive.content shouldBe "refused \"twice\""

            val file = dir.resolve("written.jsonl")
            Files.writeString(file, written)
            withQueue(path = dir.resolve("b.db")) { b ->
                b.replayFile(file) shouldBe 1
                b.peek().single().let { listOf(it.eventId, it.payload, it.projectId, it.coalesceKey, it.retryCount, it.timestamp) } shouldBe
                    listOf("a", """{"x":[1,"two"]}""", "p", "k", 1, peeked.timestamp)
            }
        }
    }

    test("an extra field may not overwrite a standard one, and the error names it") {
        withQueue { q ->
            q.queueEvent(QueueEvent("a", "click", "{}"))
            val out = StringBuilder()
            shouldThrow<IllegalArgumentException> { JsonLinesWriter(out).write(q.peek().single(), mapOf("payload" to "x")) }
                .message shouldContain "payload"
            out.toString() shouldBe ""
        }
    }
})
