package dev.spool.ktor

import dev.spool.tasks.TaskState
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonPrimitive
import java.util.Collections

class AdminActionsSpec : FunSpec({
    test("admin actions are refused with 403 while no admin token is configured") {
        Served.open().use { s ->
            val dead = s.tasks.deadLetter()
            for (path in listOf("/tasks/${dead.value}/requeue", "/tasks/${dead.value}/cancel")) {
                val reply = s.post("/spool/api/tasks/jobs$path", token = ADMIN)
                reply.status shouldBe 403
                reply.error shouldBe "admin_disabled"
            }
            s.post("/spool/api/tasks/jobs/purge?olderThanSeconds=0").status shouldBe 403
            s.tasks.get(dead)!!.state shouldBe TaskState.DEAD_LETTER
        }
    }

    test("without the token, or with a wrong one, an admin action is a 401 and changes nothing") {
        val audited = Collections.synchronizedList(mutableListOf<AdminAction>())
        Served.open { adminToken = ADMIN; onAdminAction = { audited += it } }.use { s ->
            val dead = s.tasks.deadLetter()
            for (token in listOf(null, "wrong", ADMIN.dropLast(1), ADMIN + "x", READER)) {
                val reply = s.post("/spool/api/tasks/jobs/tasks/${dead.value}/requeue", token = token)
                reply.status shouldBe 401
                reply.error shouldBe "unauthorized"
                reply.headers.firstValue("WWW-Authenticate").get() shouldStartWith "Bearer"
            }
            s.tasks.get(dead)!!.state shouldBe TaskState.DEAD_LETTER
            audited.shouldBeEmpty()
        }
    }

    test("requeue with the token moves a dead-lettered task back to QUEUED and is audited") {
        val audited = Collections.synchronizedList(mutableListOf<AdminAction>())
        Served.open { adminToken = ADMIN; onAdminAction = { audited += it } }.use { s ->
            val dead = s.tasks.deadLetter()
            val reply = s.post("/spool/api/tasks/jobs/tasks/${dead.value}/requeue", token = ADMIN)
            reply.status shouldBe 200
            reply.json["state"]!!.jsonPrimitive.content shouldBe "QUEUED"
            reply.json["attempts"]!!.jsonPrimitive.int shouldBe 0
            s.tasks.get(dead)!!.state shouldBe TaskState.QUEUED

            val again = s.post("/spool/api/tasks/jobs/tasks/${dead.value}/requeue", token = ADMIN)
            again.status shouldBe 409
            again.error shouldBe "conflict"

            audited shouldHaveSize 2
            audited[0].action shouldBe "requeue"
            audited[0].queue shouldBe "jobs"
            audited[0].target shouldBe "task ${dead.value}"
            audited[0].outcome shouldBe "ok: now QUEUED"
            audited[0].remoteHost shouldBe "127.0.0.1"
            audited[1].outcome shouldBe "conflict: QUEUED"
        }
    }

    test("cancel with the token cancels a queued task; unknown ids are 404") {
        Served.open { adminToken = ADMIN }.use { s ->
            val id = s.tasks.enqueue("email", "{}")
            s.post("/spool/api/tasks/jobs/tasks/${id.value}/cancel", token = ADMIN).json["state"]!!.jsonPrimitive.content shouldBe "CANCELLED"
            s.post("/spool/api/tasks/jobs/tasks/${id.value}/cancel", token = ADMIN).status shouldBe 409
            s.post("/spool/api/tasks/jobs/tasks/424242/cancel", token = ADMIN).let { it.status shouldBe 404; it.error shouldBe "not_found" }
            s.post("/spool/api/tasks/jobs/tasks/x/cancel", token = ADMIN).let { it.status shouldBe 400; it.error shouldBe "bad_request" }
        }
    }

    test("pause and resume a schedule with the token; unknown schedules are 404") {
        val audited = Collections.synchronizedList(mutableListOf<AdminAction>())
        Served.open { adminToken = ADMIN; onAdminAction = { audited += it } }.use { s ->
            s.tasks.schedule("hourly-report", "report", "{}", dev.spool.tasks.Recurrence.Every(kotlin.time.Duration.parse("1h")))
            s.post("/spool/api/tasks/jobs/schedules/hourly-report/pause").status shouldBe 401
            s.tasks.schedules().single().paused shouldBe false

            val paused = s.post("/spool/api/tasks/jobs/schedules/hourly-report/pause", token = ADMIN)
            paused.status shouldBe 200
            paused.json["paused"]!!.jsonPrimitive.content shouldBe "true"
            s.tasks.schedules().single().paused shouldBe true
            s.post("/spool/api/tasks/jobs/schedules/hourly-report/resume", token = ADMIN).json["paused"]!!.jsonPrimitive.content shouldBe "false"
            s.tasks.schedules().single().paused shouldBe false
            s.post("/spool/api/tasks/jobs/schedules/nope/pause", token = ADMIN).let { it.status shouldBe 404; it.error shouldBe "not_found" }
            audited.map { it.action to it.outcome } shouldBe listOf("pause" to "ok: now paused", "resume" to "ok: now running", "pause" to "not_found")
        }
    }

    test("purge deletes finished tasks older than the given age and validates the age") {
        Served.open { adminToken = ADMIN }.use { s ->
            val done = s.tasks.enqueue("email", "{}")
            s.tasks.complete(s.tasks.claim("w").single().lease!!)
            val queued = s.tasks.enqueue("email", "{}")

            s.post("/spool/api/tasks/jobs/purge?olderThanSeconds=3600", token = ADMIN).json["deleted"]!!.jsonPrimitive.int shouldBe 0
            Thread.sleep(5) // updated_at is in milliseconds: make "older than 0 s" strictly true
            s.post("/spool/api/tasks/jobs/purge?olderThanSeconds=0", token = ADMIN).json["deleted"]!!.jsonPrimitive.int shouldBe 1
            s.tasks.get(done) shouldBe null
            s.tasks.get(queued)!!.state shouldBe TaskState.QUEUED
            for (bad in listOf("", "?olderThanSeconds=-1", "?olderThanSeconds=soon", "?olderThanSeconds=999999999999")) {
                val reply = s.post("/spool/api/tasks/jobs/purge$bad", token = ADMIN)
                reply.status shouldBe 400
                reply.json["field"]!!.jsonPrimitive.content shouldBe "olderThanSeconds"
            }
        }
    }

    test("with a read token, reads need it or the admin token; the page itself stays open") {
        Served.open { readToken = READER; adminToken = ADMIN }.use { s ->
            s.api("/overview").let { it.status shouldBe 401; it.error shouldBe "unauthorized" }
            s.api("/overview", token = "nope-nope-nope-nope").status shouldBe 401
            s.api("/overview", token = READER).status shouldBe 200
            s.api("/overview", token = ADMIN).status shouldBe 200
            s.api("/openapi.json").status shouldBe 401
            s.get("/spool/").status shouldBe 200
            // The read token opens no admin action.
            val dead = s.tasks.deadLetter()
            s.post("/spool/api/tasks/jobs/tasks/${dead.value}/requeue", token = READER).status shouldBe 401
        }
    }

    test("bad configuration fails at install with an IllegalArgumentException naming the field") {
        val dir = tempDir()
        dev.spool.tasks.TaskQueue.open(dir.resolve("t.db")).use { q ->
            fun failure(configure: SpoolInspectionConfig.() -> Unit): String =
                shouldThrow<IllegalArgumentException> { SpoolInspectionConfig().apply(configure).freeze() }.message!!

            failure { taskQueue("a b", q) } shouldContain "name"
            failure { taskQueue("jobs", q); taskQueue("jobs", q) } shouldContain "already used"
            failure { taskQueue("jobs", q); adminToken = "short" } shouldContain "adminToken"
            failure { taskQueue("jobs", q); readToken = "                    " } shouldContain "readToken"
            failure { taskQueue("jobs", q); path = "spool" } shouldContain "path"
            failure { taskQueue("jobs", q); path = "/spool/" } shouldContain "path"
            failure { } shouldContain "queues"
            failure { taskQueue("jobs", q); pollInterval = kotlin.time.Duration.ZERO } shouldContain "pollInterval"
            shouldThrow<IllegalArgumentException> { InspectionServer(port = 70000) { taskQueue("jobs", q) } }.message!! shouldContain "port"
        }
    }

    test("InspectionServer binds loopback by default and serves the dashboard") {
        val dir = tempDir()
        dev.spool.tasks.TaskQueue.open(dir.resolve("t.db")).use { q ->
            InspectionServer { taskQueue("jobs", q) }.start().use { server ->
                server.dashboardUrl.host shouldBe "127.0.0.1"
                server.dashboardUrl.path shouldBe "/spool/"
                val client = java.net.http.HttpClient.newHttpClient()
                val response = client.send(java.net.http.HttpRequest.newBuilder(server.dashboardUrl).build(), java.net.http.HttpResponse.BodyHandlers.ofString())
                response.statusCode() shouldBe 200
                response.body() shouldContain "Spool dashboard"
            }
        }
    }
})
