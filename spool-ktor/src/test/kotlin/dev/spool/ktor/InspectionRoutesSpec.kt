package dev.spool.ktor

import dev.spool.queue.QueueEvent
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long

class InspectionRoutesSpec : FunSpec({
    fun ids(reply: Reply) = reply.json["tasks"]!!.jsonArray.map { it.jsonObject["id"]!!.jsonPrimitive.long }

    test("queues lists every inspected queue with its kind and what is allowed") {
        Served.open().use { s ->
            val reply = s.api("/queues")
            reply.status shouldBe 200
            reply.contentType shouldContain "application/json"
            reply.json["queues"]!!.jsonArray.map { it.jsonObject["name"]!!.jsonPrimitive.content to it.jsonObject["kind"]!!.jsonPrimitive.content } shouldContainExactly
                listOf("events" to "offline", "jobs" to "tasks")
            reply.json["adminEnabled"]!!.jsonPrimitive.content shouldBe "false"
        }
    }

    test("overview and stats report both queues' counts") {
        Served.open().use { s ->
            repeat(3) { s.events.queueEvent(QueueEvent("e$it", if (it == 0) "view" else "click", "{}")) }
            s.tasks.enqueue("email", """{"to":"a@b.c"}""")
            s.tasks.enqueue("email", "{}")
            s.tasks.enqueue("resize", "{}")
            s.tasks.deadLetter()

            val overview = s.api("/overview").json
            overview["offline"]!!.jsonArray.single().jsonObject["size"]!!.jsonPrimitive.int shouldBe 3
            val jobs = overview["tasks"]!!.jsonArray.single().jsonObject
            jobs["byState"]!!.jsonObject["QUEUED"]!!.jsonPrimitive.int shouldBe 3
            jobs["byState"]!!.jsonObject["DEAD_LETTER"]!!.jsonPrimitive.int shouldBe 1
            jobs["byState"]!!.jsonObject["CANCELLED"]!!.jsonPrimitive.int shouldBe 0
            jobs["failed"]!!.jsonPrimitive.long shouldBe 1

            val stats = s.api("/tasks/jobs/stats").json
            stats["depth"]!!.jsonObject["email"]!!.jsonObject["QUEUED"]!!.jsonPrimitive.int shouldBe 2
            val offline = s.api("/offline/events/stats").json
            offline["totalQueued"]!!.jsonPrimitive.int shouldBe 3
            offline["topEventTypes"]!!.jsonArray[0].jsonObject["type"]!!.jsonPrimitive.content shouldBe "click"
        }
    }

    test("pending events come oldest first, limited by limit") {
        Served.open().use { s ->
            repeat(5) { s.events.queueEvent(QueueEvent("e$it", "click", """{"n":$it}""")) }
            val reply = s.api("/offline/events/events?limit=2").json
            reply["events"]!!.jsonArray.map { it.jsonObject["eventId"]!!.jsonPrimitive.content } shouldContainExactly listOf("e0", "e1")
            reply["events"]!!.jsonArray[1].jsonObject["payload"]!!.jsonObject["n"]!!.jsonPrimitive.int shouldBe 1
            reply["size"]!!.jsonPrimitive.int shouldBe 5
        }
    }

    test("pending events page with a cursor, which is a position: acknowledged events shift nothing") {
        Served.open().use { s ->
            repeat(7) { s.events.queueEvent(QueueEvent("e$it", "click", """{"n":$it}""")) }
            fun ids(reply: Reply) = reply.json["events"]!!.jsonArray.map { it.jsonObject["eventId"]!!.jsonPrimitive.content }
            val first = s.api("/offline/events/events?limit=3")
            ids(first) shouldContainExactly listOf("e0", "e1", "e2")
            val cursor = first.json["nextCursor"]!!.jsonPrimitive.content
            s.events.markSynced(listOf("e1", "e3")) shouldBe 2
            s.events.queueEvent(QueueEvent("e7", "click", "{}"))
            val second = s.api("/offline/events/events?limit=3&cursor=$cursor")
            ids(second) shouldContainExactly listOf("e4", "e5", "e6")
            val third = s.api("/offline/events/events?limit=3&cursor=${second.json["nextCursor"]!!.jsonPrimitive.content}")
            ids(third) shouldContainExactly listOf("e7")
            third.json["nextCursor"] shouldBe JsonNull
            third.json["size"]!!.jsonPrimitive.int shouldBe 6
            s.api("/overview").json["offline"]!!.jsonArray.single().jsonObject["oldestEventAgeMs"]!!.jsonPrimitive.long shouldBeGreaterThanOrEqual 0L
        }
    }

    test("tasks filter by state and type and page with a cursor until nextCursor is null") {
        Served.open().use { s ->
            val emails = List(5) { s.tasks.enqueue("email", """{"n":$it}""") }
            val resize = s.tasks.enqueue("resize", "{}")
            s.tasks.cancel(emails[1]) shouldBe true

            val first = s.api("/tasks/jobs/tasks?state=queued&type=email&limit=2")
            first.status shouldBe 200
            ids(first) shouldContainExactly listOf(emails[0].value, emails[2].value)
            val pages = mutableListOf(ids(first))
            var cursor = first.json["nextCursor"]!!
            while (cursor != JsonNull) {
                val next = s.api("/tasks/jobs/tasks?state=QUEUED&type=email&limit=2&cursor=${cursor.jsonPrimitive.content}")
                next.status shouldBe 200
                pages += ids(next)
                cursor = next.json["nextCursor"]!!
            }
            pages.all { it.size <= 2 } shouldBe true
            pages.flatten() shouldContainExactly listOf(emails[0], emails[2], emails[3], emails[4]).map { it.value }

            ids(s.api("/tasks/jobs/tasks?state=cancelled")) shouldContainExactly listOf(emails[1].value)
            ids(s.api("/tasks/jobs/tasks?state=queued,cancelled&type=resize")) shouldContainExactly listOf(resize.value)
            ids(s.api("/tasks/jobs/tasks")).size shouldBe 6
        }
    }

    test("one task comes with its transition log; dead letters and workers are listed") {
        Served.open().use { s ->
            val live = s.tasks.enqueue("email", "{}")
            val dead = s.tasks.deadLetter("mail", "smtp down")
            s.tasks.registerWorker("w2", setOf("gpu"), kotlin.time.Duration.parse("15s"))

            val detail = s.api("/tasks/jobs/tasks/${dead.value}").json
            detail["task"]!!.jsonObject["state"]!!.jsonPrimitive.content shouldBe "DEAD_LETTER"
            detail["task"]!!.jsonObject["lastError"]!!.jsonPrimitive.content shouldBe "smtp down"
            detail["log"]!!.jsonArray.map { it.jsonObject["to"]!!.jsonPrimitive.content } shouldContainExactly
                listOf("QUEUED", "LEASED", "DEAD_LETTER")
            detail["log"]!!.jsonArray[0].jsonObject["from"] shouldBe JsonNull

            ids(s.api("/tasks/jobs/dead-letters")) shouldContainExactly listOf(dead.value)
            ids(s.api("/tasks/jobs/dead-letters")).contains(live.value) shouldBe false
            val workers = s.api("/tasks/jobs/workers").json["workers"]!!.jsonArray.map { it.jsonObject }
            workers.map { it["workerId"]!!.jsonPrimitive.content } shouldContainExactly listOf("w", "w2")
            workers[1]["leaseTtlMs"]!!.jsonPrimitive.long shouldBe 15_000
        }
    }

    test("schedules are listed, and a leased task shows its lease with the fencing token") {
        Served.open().use { s ->
            s.tasks.schedule("hourly-report", "report", """{"k":1}""", dev.spool.tasks.Recurrence.Every(kotlin.time.Duration.parse("1h")))
            val schedules = s.api("/tasks/jobs/schedules").json["schedules"]!!.jsonArray.map { it.jsonObject }
            schedules.map { it["name"]!!.jsonPrimitive.content } shouldContainExactly listOf("hourly-report")
            schedules[0]["paused"]!!.jsonPrimitive.content shouldBe "false"
            schedules[0]["recurrence"]!!.jsonPrimitive.content shouldContain "1h"
            val pending = schedules[0]["pendingTaskId"]!!.jsonPrimitive.long

            val claimed = s.tasks.claim("w-lease").single()
            claimed.id.value shouldBe pending
            val task = s.api("/tasks/jobs/tasks/$pending").json["task"]!!.jsonObject
            task["lease"]!!.jsonObject["workerId"]!!.jsonPrimitive.content shouldBe "w-lease"
            task["lease"]!!.jsonObject["token"]!!.jsonPrimitive.long shouldBe claimed.lease!!.token
        }
    }

    test("bad input is a 400 JSON error naming the field, never a 500 or a stack trace") {
        Served.open().use { s ->
            val cases = mapOf(
                "/tasks/jobs/tasks?state=SLEEPING" to "state",
                "/tasks/jobs/tasks?state=," to "state",
                "/tasks/jobs/tasks?limit=0" to "limit",
                "/tasks/jobs/tasks?limit=501" to "limit",
                "/tasks/jobs/tasks?limit=99999999999999" to "limit",
                "/tasks/jobs/tasks?limit=ten" to "limit",
                "/tasks/jobs/tasks?cursor=x" to "cursor",
                "/tasks/jobs/tasks?cursor=0" to "cursor",
                "/tasks/jobs/tasks?cursor=-5" to "cursor",
                "/tasks/jobs/tasks?type=" to "type",
                "/tasks/jobs/dead-letters?cursor=%27%3B--" to "cursor",
                "/tasks/jobs/tasks/abc" to "id",
                "/tasks/jobs/tasks/0" to "id",
                "/tasks/jobs/tasks/99999999999999999999" to "id",
                "/offline/events/events?limit=100000" to "limit",
                "/offline/events/events?cursor=abc" to "cursor",
                "/offline/events/events?cursor=1.0" to "cursor",
                "/offline/events/events?cursor=12" to "cursor",
                "/offline/events/events?cursor=${"9".repeat(60)}.1" to "cursor",
            )
            for ((path, field) in cases) {
                val reply = s.api(path)
                withClue(path) {
                    reply.status shouldBe 400
                    reply.error shouldBe "bad_request"
                    reply.json["field"]!!.jsonPrimitive.content shouldBe field
                    reply.body shouldNotContain "Exception"
                }
            }
        }
    }

    test("unknown queues, tasks and routes are JSON 404s") {
        Served.open().use { s ->
            s.api("/tasks/nope/stats").let { it.status shouldBe 404; it.error shouldBe "unknown_queue" }
            s.api("/tasks/events/stats").let { it.status shouldBe 404; it.error shouldBe "unknown_queue" }
            s.api("/offline/jobs/events").let { it.status shouldBe 404; it.error shouldBe "unknown_queue" }
            s.api("/tasks/jobs/tasks/424242").let { it.status shouldBe 404; it.error shouldBe "not_found" }
            s.api("/no/such/route").let { it.status shouldBe 404; it.error shouldBe "not_found" }
        }
    }

    test("a closed queue is a JSON 503, not a 500") {
        val s = Served.open()
        s.use {
            s.tasks.close()
            val reply = s.api("/tasks/jobs/tasks/1")
            reply.status shouldBe 503
            reply.error shouldBe "unavailable"
            reply.body shouldNotContain "IllegalStateException"
        }
    }

    test("the dashboard page and its files are served with a content security policy") {
        Served.open().use { s ->
            for (path in listOf("/spool", "/spool/")) {
                val page = s.get(path)
                page.status shouldBe 200
                page.contentType shouldContain "text/html"
                page.body shouldContain """<meta name="spool-base" content="/spool">"""
                page.headers.firstValue("Content-Security-Policy").get() shouldContain "script-src 'self'"
            }
            s.get("/spool/dashboard.js").let { it.status shouldBe 200; it.contentType shouldContain "javascript" }
            s.get("/spool/dashboard.css").let { it.status shouldBe 200; it.contentType shouldContain "text/css" }
        }
    }
})

private fun withClue(clue: String, block: () -> Unit) = io.kotest.assertions.withClue(clue, block)
