package dev.spool.samples

import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.samples.client.EventEmitter
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.int
import kotlinx.serialization.json.put
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.StandardCopyOption
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.milliseconds

/**
 * The "app" of the demo, run in its own JVM so the demo can kill it with SIGKILL while its queue
 * is open: it emits the events, reports progress on stdout (`progress <emitted> <pending>`),
 * writes what it emitted to a JSON file, prints `ready` and waits to be killed.
 *
 * Arguments: database path, event count, refused-event count, result file.
 */
internal object DemoApp {
    const val REFUSED_TYPE = "legacy_v1"
    private const val EMITTERS = 8
    private const val SCREENS_PER_EMITTER = 5

    /** What the app emitted, for the demo's proof. */
    class Emitted(val expected: Set<String>, val taps: Set<String>, val refused: Set<String>, val coalesced: Int) {
        fun toJson(): JsonObject = buildJsonObject {
            put("coalesced", coalesced)
            put("expected", JsonArray(expected.map(::JsonPrimitive)))
            put("taps", JsonArray(taps.map(::JsonPrimitive)))
            put("refused", JsonArray(refused.map(::JsonPrimitive)))
        }

        companion object {
            fun read(path: Path): Emitted {
                val json = Json.parseToJsonElement(Files.readString(path)) as JsonObject
                fun ids(key: String) = (json[key] as JsonArray).mapTo(LinkedHashSet()) { (it as JsonPrimitive).content }
                return Emitted(ids("expected"), ids("taps"), ids("refused"), (json["coalesced"] as JsonPrimitive).int)
            }
        }
    }

    @JvmStatic
    fun main(args: Array<String>) {
        val (db, events, refused, result) = args
        // Deliberately never closed: the demo kills this process with the queue open.
        val queue = OfflineQueue.open(Paths.get(db), QueueConfig(name = "demo-app"))
        runBlocking {
            val done = AtomicInteger()
            val reporter = launch(Dispatchers.Default) {
                while (isActive) {
                    println("progress ${done.get()} ${queue.sizes.value}")
                    System.out.flush()
                    delay(100.milliseconds)
                }
            }
            val emitted = emit(queue, events.toInt(), refused.toInt(), done)
            reporter.cancel()
            val target = Paths.get(result)
            val temp = target.resolveSibling("${target.fileName}.tmp")
            Files.writeString(temp, emitted.toJson().toString())
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
            println("progress ${done.get()} ${queue.sizes.value}")
            println("ready")
            System.out.flush()
        }
        Thread.sleep(Long.MAX_VALUE)
    }

    /**
     * Emits [events] events from [EMITTERS] coroutines: first [refused] events of [REFUSED_TYPE],
     * then taps and, every fifth event of each coroutine, a screen state. Each coroutine owns its
     * screens, so the latest state of each screen is known without relying on commit order.
     */
    suspend fun emit(queue: OfflineQueue, events: Int, refused: Int, done: AtomicInteger): Emitted = coroutineScope {
        val emitter = EventEmitter(queue)
        val coalesced = AtomicInteger()
        val refusedIds = (0 until refused).map { "refused-$it" }.toSet()
        refusedIds.forEachIndexed { i, id ->
            emitter.track(REFUSED_TYPE, buildJsonObject { put("seq", -1 - i) }, eventId = id)
            done.incrementAndGet()
        }
        val perEmitter = (0 until EMITTERS).map { k ->
            async(Dispatchers.Default) {
                val taps = HashSet<String>()
                val latestScreen = HashMap<String, String>()
                var i = k + refused
                var n = 0
                while (i < events) {
                    val id = "ev-%06d".format(i)
                    if (n % 5 == 4) {
                        val screen = "s$k-${(n / 5) % SCREENS_PER_EMITTER}"
                        val state = JsonObject(mapOf("seq" to JsonPrimitive(i), "scroll" to JsonPrimitive(i % 100)))
                        if (emitter.screenState(screen, state, eventId = id).outcome == EnqueueOutcome.COALESCED) coalesced.incrementAndGet()
                        latestScreen[screen] = id
                    } else {
                        emitter.track("tap", buildJsonObject { put("seq", i); put("button", "b${i % 7}") }, eventId = id)
                        taps += id
                    }
                    done.incrementAndGet()
                    i += EMITTERS
                    n++
                }
                taps to latestScreen.values
            }
        }.awaitAll()
        val taps = perEmitter.flatMapTo(HashSet()) { it.first }
        val expected = HashSet<String>().apply {
            addAll(refusedIds)
            addAll(taps)
            perEmitter.forEach { addAll(it.second) }
        }
        Emitted(expected, taps, refusedIds, coalesced.get())
    }
}
