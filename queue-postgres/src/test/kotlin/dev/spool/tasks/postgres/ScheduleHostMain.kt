package dev.spool.tasks.postgres

import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.Recurrence
import kotlinx.coroutines.runBlocking
import java.time.Instant
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.seconds

/**
 * One host of [ScheduleHostsSpec] in its own JVM: defines the schedules `s1..s<count>` (Every 1s,
 * from [start]) as every host does, prints `READY`, then claims, completes and sweeps them until a
 * line `stop`, and prints `DONE`.
 *
 * Args: schema, host id, schedule count, start (epoch ms).
 */
object ScheduleHostMain {
    @JvmStatic
    fun main(args: Array<String>) {
        val (schema, hostId, count, start) = args
        TestDatabase.pool(3, hostId).use { pool ->
            PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false)).use { q ->
                runBlocking {
                    for (n in (1..count.toInt()).shuffled()) {
                        val misfire = if (n % 2 == 0) MisfirePolicy.SKIP else MisfirePolicy.RUN_ONCE
                        q.schedule("s$n", "s$n", "{}", Recurrence.Every(1.seconds), misfire = misfire, startAt = Instant.ofEpochMilli(start.toLong()))
                    }
                }
                println("READY")
                System.out.flush()
                val stop = Thread { while (true) { val line = readLine() ?: break; if (line == "stop") break } }.apply { start() }
                runBlocking {
                    var round = 0
                    while (stop.isAlive) {
                        round++
                        for (task in q.claim(hostId, limit = 4, leaseTtl = 1.hours)) q.complete(task.lease!!)
                        if (round % 3 == 0) q.sweep()
                    }
                }
                println("DONE")
                System.out.flush()
            }
        }
    }
}
