package dev.spool.benchmarks

import com.zaxxer.hikari.HikariConfig
import com.zaxxer.hikari.HikariDataSource
import java.util.UUID

/**
 * The PostgreSQL server the task-queue comparison runs against, and the pool both PostgreSQL
 * systems borrow from.
 *
 * The server is `jdbc:postgresql://127.0.0.1:5432/test` as user `postgres` (trust authentication),
 * overridable with the system properties `spool.bench.pg.url` and `spool.bench.pg.user`. Every
 * trial works in a schema of its own ([newSchema]) and drops it at the end ([dropSchema]), so runs
 * never collide. Both systems get the same pool ([pool], [POOL_SIZE] connections, autocommit) and
 * the server's `synchronous_commit`, so each commit waits for its WAL flush in both.
 */
public object PostgresBench {
    /** Connections in each system's pool. */
    public const val POOL_SIZE: Int = 8

    /** The JDBC URL of the server. */
    public val url: String get() = System.getProperty("spool.bench.pg.url") ?: "jdbc:postgresql://127.0.0.1:5432/test"

    private val user: String get() = System.getProperty("spool.bench.pg.user") ?: "postgres"

    /** A HikariCP pool of [POOL_SIZE] autocommit connections to [url], all opened up front. */
    public fun pool(name: String): HikariDataSource = HikariDataSource(
        HikariConfig().apply {
            jdbcUrl = url
            username = user
            poolName = name
            maximumPoolSize = POOL_SIZE
            minimumIdle = POOL_SIZE
            isAutoCommit = true
        },
    )

    /** A fresh schema name starting with [prefix], unique to this trial. */
    public fun newSchema(prefix: String): String = "${prefix}_${UUID.randomUUID().toString().replace("-", "").take(12)}"

    /** Drops [schema] and everything in it. */
    public fun dropSchema(pool: HikariDataSource, schema: String) {
        pool.connection.use { c -> c.createStatement().use { it.execute("DROP SCHEMA IF EXISTS $schema CASCADE") } }
    }
}
