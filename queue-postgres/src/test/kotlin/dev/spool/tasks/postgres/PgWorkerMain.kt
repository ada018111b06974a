package dev.spool.tasks.postgres

import dev.spool.tasks.TaskHandler
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskWorker
import dev.spool.tasks.TaskWorkerConfig
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * One worker "host" of [MultiHostSpec], in its own JVM: a pool, a PostgreSQL queue and a
 * TaskWorker whose handler records each execution (task id, worker, lease token) in
 * `<schema>.executions` before it returns. Prints `READY`, runs until a line `stop` (or SIGKILL).
 *
 * Args: schema, worker id.
 */
object PgWorkerMain {
    @JvmStatic
    fun main(args: Array<String>) {
        val (schema, workerId) = args
        TestDatabase.pool(6, workerId).use { pool ->
            val config = TaskQueueConfig(staleWorkerTimeout = 4.seconds, name = workerId)
            PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, config)).use { queue ->
                val record = "INSERT INTO $schema.executions (task_id, worker_id, token) VALUES (?, ?, ?)"
                val handler = TaskHandler { task ->
                    withContext(Dispatchers.IO) {
                        pool.connection.use { c ->
                            c.prepareStatement(record).use { s ->
                                s.setLong(1, task.id.value)
                                s.setString(2, workerId)
                                s.setLong(3, task.lease!!.token)
                                s.executeUpdate()
                            }
                        }
                    }
                }
                val worker = TaskWorker(
                    queue,
                    mapOf("job" to handler),
                    concurrency = 16,
                    config = TaskWorkerConfig(
                        workerId = workerId,
                        leaseTtl = 2.seconds,
                        pollInterval = 200.milliseconds,
                        sweepInterval = 500.milliseconds,
                        stopGracePeriod = 5.seconds,
                    ),
                ).start()
                println("READY")
                System.out.flush()
                while (true) {
                    val line = readLine() ?: break
                    if (line == "stop") break
                }
                runBlocking { worker.stop() }
                println("STOPPED")
                System.out.flush()
            }
        }
    }
}
