package dev.spool.queue

import dev.spool.storage.Durability
import dev.spool.queue.internal.RealOfflineQueue
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.time.Duration.Companion.seconds

class QueueConfigSpec : FunSpec({
    test("every default is the documented one, and the Java builder starts from the same") {
        for (config in listOf(QueueConfig(), QueueConfig.builder().build())) {
            config.maxQueueSize shouldBe 100_000
            config.strictCap shouldBe 10_000
            config.maxPayloadBytes shouldBe 1_048_576
            config.durability shouldBe Durability.NORMAL
            config.maxBatchSize shouldBe 512
            config.writeBufferCapacity shouldBe 4096
            config.busyTimeout shouldBe 5.seconds
            config.name shouldBe "spool"
            config.readDispatcher shouldBe kotlinx.coroutines.Dispatchers.IO
            config.writerDispatcher shouldBe null
            config.walSizeLimitBytes shouldBe 64L * 1024 * 1024
            config.checkIntegrityOnOpen shouldBe false
        }
    }

    test("nonsensical sizes are refused, naming the setting") {
        shouldThrow<IllegalArgumentException> { QueueConfig(maxQueueSize = 0) }.message shouldContain "maxQueueSize"
        shouldThrow<IllegalArgumentException> { QueueConfig(strictCap = -1) }.message shouldContain "strictCap"
        shouldThrow<IllegalArgumentException> { QueueConfig(maxPayloadBytes = 0) }.message shouldContain "maxPayloadBytes"
        shouldThrow<IllegalArgumentException> { QueueConfig(maxBatchSize = 0) }.message shouldContain "maxBatchSize"
        shouldThrow<IllegalArgumentException> { QueueConfig(name = " ") }.message shouldContain "name"
    }

    test("the builder carries every setting and starts from the defaults") {
        val built = QueueConfig.builder()
            .maxQueueSize(10)
            .strictCap(5)
            .maxPayloadBytes(100)
            .durability(Durability.FULL)
            .maxBatchSize(7)
            .writeBufferCapacity(3)
            .busyTimeout(java.time.Duration.ofSeconds(2))
            .name("orders")
            .build()
        built.maxQueueSize shouldBe 10
        built.strictCap shouldBe 5
        built.maxPayloadBytes shouldBe 100
        built.durability shouldBe Durability.FULL
        built.maxBatchSize shouldBe 7
        built.writeBufferCapacity shouldBe 3
        built.busyTimeout shouldBe 2.seconds
        built.name shouldBe "orders"
        built.newBuilder().build().toString() shouldBe built.toString()
        QueueConfig.builder().build().toString() shouldBe QueueConfig().toString()
    }

    test("durability sets the writer's synchronous pragma, always in WAL mode") {
        for ((durability, expected) in listOf(Durability.NORMAL to 1, Durability.FULL to 2)) {
            RealOfflineQueue.open(tempDb(), QueueConfig(durability = durability)).use { q ->
                q.onWriter { c -> c.createStatement().executeQuery("PRAGMA synchronous").use { it.next(); it.getInt(1) } } shouldBe expected
                q.onWriter { c -> c.createStatement().executeQuery("PRAGMA journal_mode").use { it.next(); it.getString(1) } } shouldBe "wal"
            }
        }
    }

    test("open creates missing parent directories") {
        val path = tempDir().resolve("a/b/c/queue.db")
        OfflineQueue.open(path).use { it.queueEvent(event(1)) }
        java.nio.file.Files.exists(path) shouldBe true
    }
})
