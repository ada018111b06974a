package dev.spool.tasks.postgres

import com.zaxxer.hikari.HikariConfig
import com.zaxxer.hikari.HikariDataSource
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import java.sql.DriverManager
import java.util.UUID

/** The test server: PostgreSQL 15 on 127.0.0.1:5432, trust auth, started by `.ci/run` if needed. */
object TestDatabase {
    val url: String = System.getProperty("spool.pg.url") ?: "jdbc:postgresql://127.0.0.1:5432/test"
    val user: String = System.getProperty("spool.pg.user") ?: "postgres"

    fun pool(size: Int = 4, name: String = "spool-test"): HikariDataSource = HikariDataSource(
        HikariConfig().apply {
            jdbcUrl = url
            username = user
            maximumPoolSize = size
            minimumIdle = 0
            poolName = name
            addDataSourceProperty("ApplicationName", name)
            connectionTimeout = 10_000
        },
    )

    /** A fresh schema name nobody else uses; drop it with [drop]. */
    fun newSchema(): String = "spool_t_" + UUID.randomUUID().toString().replace("-", "").take(16)

    fun drop(schema: String) {
        DriverManager.getConnection(url, user, "").use { c -> c.createStatement().use { it.execute("DROP SCHEMA IF EXISTS $schema CASCADE") } }
    }

    fun <T> sql(block: (java.sql.Connection) -> T): T = DriverManager.getConnection(url, user, "").use(block)
}

/** A queue in its own schema over its own pool; [close] closes both and drops the schema. */
class PgQueue(
    val config: TaskQueueConfig = TaskQueueConfig(),
    val schema: String = TestDatabase.newSchema(),
    poolSize: Int = 4,
    listen: Boolean = true,
    private val dropOnClose: Boolean = true,
) : AutoCloseable {
    val pool: HikariDataSource = TestDatabase.pool(poolSize, "pool-$schema")
    val queue: TaskQueue = PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, config, listen))

    /** Another queue object on the same schema, as a second host would open it. */
    fun otherHost(config: TaskQueueConfig = this.config): TaskQueue =
        PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, config))

    override fun close() {
        queue.close()
        pool.close()
        if (dropOnClose) TestDatabase.drop(schema)
    }
}
