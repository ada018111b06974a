package dev.spool.queue

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/**
 * The child of [MultiInstanceSpec]: opens a queue with a cap of 2 on a shared file, prints
 * `ready`, waits for a line on stdin, then races the other process.
 *
 * Args: database path, mode (`strict` appends and marks every other accepted event synced;
 * `evicting` calls queueEvent), events per caller, id prefix. Four concurrent callers. At the end it
 * prints `result inserted=<n> refused=<n> synced=<n> evicted=<n> errors=<n>`, with the first
 * unexpected error on stderr.
 */
object CapRaceChild {
    @JvmStatic
    fun main(args: Array<String>) {
        val db = Path.of(args[0])
        val strict = args[1] == "strict"
        val perCaller = args[2].toInt()
        val prefix = args[3]
        val inserted = AtomicInteger()
        val refused = AtomicInteger()
        val synced = AtomicInteger()
        val evicted = AtomicInteger()
        val errors = AtomicInteger()
        OfflineQueue.open(db, QueueConfig(maxQueueSize = 2, strictCap = 2, busyTimeout = 60.seconds)).use { queue ->
            println("ready")
            System.out.flush()
            readlnOrNull()
            runBlocking(Dispatchers.Default) {
                repeat(4) { caller ->
                    launch {
                        for (i in 0 until perCaller) {
                            val event = QueueEvent("$prefix-$caller-$i", "race", """{"i":$i}""")
                            try {
                                if (strict) {
                                    queue.append(event)
                                    inserted.incrementAndGet()
                                    if (i % 2 == 0) synced.addAndGet(queue.markSynced(listOf(event.eventId)))
                                } else {
                                    val result = queue.queueEvent(event)
                                    if (result.outcome == EnqueueOutcome.INSERTED) inserted.incrementAndGet()
                                    evicted.addAndGet(result.evicted)
                                }
                            } catch (e: OfflineQueueFullException) {
                                refused.incrementAndGet()
                            } catch (e: Exception) {
                                if (errors.getAndIncrement() == 0) e.printStackTrace()
                            }
                        }
                    }
                }
            }
        }
        println("result inserted=$inserted refused=$refused synced=$synced evicted=$evicted errors=$errors")
        System.out.flush()
    }
}

/** Parses [CapRaceChild]'s result line into its named counts. */
fun parseRaceResult(line: String): Map<String, Int> =
    line.removePrefix("result ").split(' ').associate { part ->
        val (key, value) = part.split('=')
        key to value.toInt()
    }
