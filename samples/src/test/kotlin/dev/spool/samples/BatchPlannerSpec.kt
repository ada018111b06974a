package dev.spool.samples

import dev.spool.samples.client.BatchPlanner
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.long
import java.io.ByteArrayInputStream
import java.util.zip.GZIPInputStream
import kotlin.random.Random

private fun idsIn(body: ByteArray): List<String> =
    ((Json.parseToJsonElement(body.decodeToString()) as JsonObject)["events"] as JsonArray)
        .map { ((it as JsonObject)["event_id"] as JsonPrimitive).content }

class BatchPlannerSpec : FunSpec({
    test("no candidates plan no batch") {
        BatchPlanner().plan(emptyList()) shouldBe null
    }

    test("a batch takes at most maxEvents of the oldest events, in order") {
        val candidates = (1..250).map { queued(it) }
        val batch = BatchPlanner(maxEvents = 100).plan(candidates)!!
        batch.events.map { it.eventId } shouldBe (1..100).map { "e$it" }
        idsIn(batch.body) shouldBe (1..100).map { "e$it" }
    }

    test("the body is valid JSON carrying each event's id, type, timestamp and payload") {
        val event = queued(7, payloadChars = 3)
        val json = (Json.parseToJsonElement(BatchPlanner().plan(listOf(event))!!.body.decodeToString()) as JsonObject)
        val only = (json["events"] as JsonArray).single() as JsonObject
        (only["event_id"] as JsonPrimitive).content shouldBe "e7"
        (only["event_type"] as JsonPrimitive).content shouldBe "tap"
        (only["timestamp"] as JsonPrimitive).long shouldBe event.timestamp.toEpochMilli()
        only["payload"] shouldBe Json.parseToJsonElement(event.payload)
    }

    test("a batch is the longest prefix whose body fits the byte limit") {
        val random = Random(42)
        repeat(200) {
            val candidates = (1..60).map { queued(it, payloadChars = random.nextInt(0, 400)) }
            val maxBytes = random.nextInt(600, 8000)
            val planner = BatchPlanner(maxEvents = 50, maxBytes = maxBytes)
            val batch = planner.plan(candidates)!!
            val size = batch.events.size
            if (size > 1 || batch.body.size <= maxBytes) batch.body.size shouldBeLessThanOrEqual maxBytes
            if (size < 50 && size < candidates.size) {
                // One more event would not have fit.
                val bigger = BatchPlanner(maxEvents = size + 1, maxBytes = Int.MAX_VALUE).plan(candidates)!!
                bigger.body.size shouldBeGreaterThan maxBytes
            }
            idsIn(batch.body) shouldBe batch.events.map { it.eventId }
        }
    }

    test("an event larger than the limit on its own is planned alone, so the server can refuse it") {
        val candidates = listOf(queued(1, payloadChars = 5000), queued(2), queued(3))
        val batch = BatchPlanner(maxBytes = 1000).plan(candidates)!!
        batch.events.map { it.eventId } shouldBe listOf("e1")
        batch.body.size shouldBeGreaterThan 1000
    }

    test("an oversized event after smaller ones waits for the next batch") {
        val candidates = listOf(queued(1), queued(2), queued(3, payloadChars = 5000))
        BatchPlanner(maxBytes = 1000).plan(candidates)!!.events.map { it.eventId } shouldBe listOf("e1", "e2")
    }

    test("halves keep FIFO order and each is a valid body of its own") {
        val batch = BatchPlanner().plan((1..7).map { queued(it) })!!
        val (first, second) = batch.halves()
        idsIn(first.body) shouldBe listOf("e1", "e2", "e3")
        idsIn(second.body) shouldBe listOf("e4", "e5", "e6", "e7")
        first.body.size + second.body.size shouldBeGreaterThan batch.body.size
        shouldThrow<IllegalStateException> { BatchPlanner().plan(listOf(queued(1)))!!.halves() }
    }

    test("the gzipped body decompresses to the body") {
        val batch = BatchPlanner().plan((1..100).map { queued(it, payloadChars = 50) })!!
        val gz = batch.gzipped()
        GZIPInputStream(ByteArrayInputStream(gz)).readBytes() shouldBe batch.body
        gz.size shouldBeLessThanOrEqual batch.body.size / 2
    }

    test("limits must be positive") {
        shouldThrow<IllegalArgumentException> { BatchPlanner(maxEvents = 0) }
        shouldThrow<IllegalArgumentException> { BatchPlanner(maxBytes = 0) }
    }
})
