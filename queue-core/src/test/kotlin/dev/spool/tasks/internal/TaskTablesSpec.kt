package dev.spool.tasks.internal

import dev.spool.tasks.TaskQueue
import dev.spool.tasks.tempTasksDb
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import org.jetbrains.exposed.v1.core.AutoIncColumnType
import org.jetbrains.exposed.v1.core.IntegerColumnType
import org.jetbrains.exposed.v1.core.LongColumnType
import java.sql.DriverManager

/** The DDL of a new task file agrees with the Exposed tables, the one definition of every column. */
class TaskTablesSpec : FunSpec({
    test("every table of a new file has exactly the Exposed columns, in order, with their nullability and affinity") {
        val path = tempTasksDb()
        TaskQueue.open(path).close()
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            for (table in TASK_TABLES) {
                val actual = c.createStatement().executeQuery("PRAGMA table_info(${table.tableName})").use { rs ->
                    buildList { while (rs.next()) add(Triple(rs.getString("name"), rs.getString("type"), rs.getInt("notnull") == 1 || rs.getInt("pk") == 1)) }
                }
                val expected = table.columns.map { column ->
                    val type = (column.columnType as? AutoIncColumnType<*>)?.delegate ?: column.columnType
                    val affinity = when (type) {
                        is LongColumnType, is IntegerColumnType -> "INTEGER"
                        else -> "TEXT"
                    }
                    Triple(column.name, affinity, !column.columnType.nullable)
                }
                actual shouldBe expected
            }
        }
    }

    test("the claim statement returns the columns the row mapping reads") {
        TaskStatements.TASK_COLUMNS shouldBe TasksTable.columns.joinToString(", ") { it.name }
    }
})
