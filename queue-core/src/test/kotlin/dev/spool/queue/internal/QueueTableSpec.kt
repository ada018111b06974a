package dev.spool.queue.internal

import dev.spool.queue.OfflineQueue
import dev.spool.queue.tempDb
import dev.spool.queue.withJdbc
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import org.jetbrains.exposed.v1.core.IntegerColumnType
import org.jetbrains.exposed.v1.core.LongColumnType
import org.jetbrains.exposed.v1.core.TextColumnType

/**
 * [QueueTable] is the one definition of the `queue` table: the DDL that [Schema] runs must create
 * exactly its columns, with the same SQL types and nullability, so the two can never drift.
 */
class QueueTableSpec : FunSpec({
    test("the schema's DDL creates exactly QueueTable's columns, with their types and nullability") {
        val db = tempDb()
        OfflineQueue.open(db).close()
        val onDisk = withJdbc(db) { c ->
            c.createStatement().use { s ->
                s.executeQuery("PRAGMA table_info(queue)").use { rs ->
                    buildMap {
                        while (rs.next()) put(rs.getString("name"), rs.getString("type") to (rs.getInt("notnull") == 1 || rs.getInt("pk") == 1))
                    }
                }
            }
        }
        val declared = QueueTable.columns.associate { column ->
            val columnType = column.columnType.let { (it as? org.jetbrains.exposed.v1.core.AutoIncColumnType<*>)?.delegate ?: it }
            val type = when (columnType) {
                is TextColumnType -> "TEXT"
                is LongColumnType, is IntegerColumnType -> "INTEGER"
                else -> error("unmapped column type $columnType of ${column.name}")
            }
            column.name to (type to !column.columnType.nullable)
        }
        onDisk shouldBe declared
    }

    test("the export columns are columns of the table, in the JSON Lines order") {
        QueueTable.exportColumns.map { it.name } shouldBe
            listOf("event_id", "event_type", "project_id", "coalesce_key", "timestamp", "retry_count", "payload")
        QueueTable.exportColumns.all { it in QueueTable.columns } shouldBe true
    }
})
