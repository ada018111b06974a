package dev.spool.queue

import dev.spool.storage.QueueStorageException
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlinx.serialization.json.Json
import java.nio.file.Path
import java.sql.DriverManager
import java.time.Instant

class LegacyMigrationSpec : FunSpec({
    test("a database written by the Python queue is migrated in place without losing a row") {
        val path = tempDb()
        writeLegacyDatabase(path)

        OfflineQueue.open(path).use { q ->
            q.size() shouldBe 4
            q.sizeFromDisk() shouldBe 4
            val rows = q.peek()
            rows.map { it.eventId } shouldContainExactly listOf("py-1", "py-2", "py-3", "py-4")
            rows[0].projectId shouldBe "proj-top"
            rows[1].projectId shouldBe "proj-nested"
            rows[2].projectId shouldBe null
            Json.parseToJsonElement(rows[0].payload) shouldBe Json.parseToJsonElement("""{"clicks":3}""")
            rows[0].timestamp shouldBe Instant.ofEpochSecond(1_700_000_000)
            rows[1].retryCount shouldBe 2
            rows[2].coalesceKey shouldBe "screen:home"
            Json.parseToJsonElement(rows[3].payload) shouldBe Json.parseToJsonElement("""{"event_id":"py-4","note":"no payload key"}""")

            q.removeProjectEvents("proj-nested") shouldBe 1
            q.queueEvent(event(5)).outcome shouldBe EnqueueOutcome.INSERTED
            q.queueEvent(QueueEvent("new", "screen", "{}", coalesceKey = "screen:home")).outcome shouldBe EnqueueOutcome.COALESCED
        }

        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            c.createStatement().executeQuery("PRAGMA user_version").use { it.next(); it.getInt(1) } shouldBe 1
            c.createStatement().executeQuery("SELECT note FROM unrelated").use { it.next(); it.getString(1) } shouldBe "keep me"
        }
        OfflineQueue.open(path).use { it.size() shouldBe 4 }
    }

    test("a newer schema version is refused without touching the file") {
        val path = tempDb()
        OfflineQueue.open(path).close()
        DriverManager.getConnection("jdbc:sqlite:$path").use { it.createStatement().execute("PRAGMA user_version = 99") }
        val before = java.nio.file.Files.readAllBytes(path)
        val error = io.kotest.assertions.throwables.shouldThrow<QueueStorageException> { OfflineQueue.open(path) }
        error.message!!.contains("schema version 99") shouldBe true
        java.nio.file.Files.readAllBytes(path) shouldBe before
    }
})

/** Writes the schema and a few rows exactly as Spool's Python ancestor did. */
private fun writeLegacyDatabase(path: Path) {
    DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
        c.createStatement().use { s ->
            s.execute(
                """CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT UNIQUE NOT NULL,
                   event_type TEXT NOT NULL, data TEXT NOT NULL, timestamp INTEGER NOT NULL,
                   retry_count INTEGER DEFAULT 0, coalesce_key TEXT)""",
            )
            s.execute("CREATE INDEX idx_queue_timestamp ON queue(timestamp)")
            s.execute("CREATE TABLE unrelated (note TEXT)")
            s.execute("INSERT INTO unrelated VALUES ('keep me')")
        }
        val insert = c.prepareStatement(
            "INSERT INTO queue (event_id, event_type, data, timestamp, retry_count, coalesce_key) VALUES (?, ?, ?, ?, ?, ?)",
        )
        fun row(id: String, type: String, data: String, ts: Long, retries: Int?, key: String?) {
            insert.setString(1, id)
            insert.setString(2, type)
            insert.setString(3, data)
            insert.setLong(4, ts)
            if (retries == null) insert.setNull(5, java.sql.Types.INTEGER) else insert.setInt(5, retries)
            insert.setString(6, key)
            insert.executeUpdate()
        }
        row("py-1", "click", """{"event_id":"py-1","project_uuid":"proj-top","payload":{"clicks":3}}""", 1_700_000_000, 0, null)
        row("py-2", "view", """{"event_id":"py-2","payload":{"project_uuid":"proj-nested","v":1}}""", 1_700_000_001, 2, null)
        row("py-3", "screen", """{"event_id":"py-3","payload":{"s":"home"}}""", 1_700_000_002, null, "screen:home")
        row("py-4", "note", """{"event_id":"py-4","note":"no payload key"}""", 1_700_000_003, 0, null)
    }
}
