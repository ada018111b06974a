package dev.spool.queue.micrometer

import dev.spool.queue.tempDb
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.io.File
import java.net.URLClassLoader
import java.nio.file.Path

class MicrometerIsOptionalSpec : FunSpec({
    test("a queue opens, writes, checkpoints and backs up with no Micrometer on the class path") {
        val withoutMicrometer = System.getProperty("java.class.path").split(File.pathSeparator)
            .filterNot { "micrometer" in it }
            .map { File(it).toURI().toURL() }
            .toTypedArray()
        URLClassLoader(withoutMicrometer, ClassLoader.getPlatformClassLoader()).use { loader ->
            runCatching { loader.loadClass("io.micrometer.core.instrument.MeterRegistry") }.isFailure shouldBe true

            val offlineQueue = loader.loadClass("dev.spool.queue.OfflineQueue")
            val queueEvent = loader.loadClass("dev.spool.queue.QueueEvent")
            val maintenance = loader.loadClass("dev.spool.maintenance.Maintenance")
            val checkpointMode = loader.loadClass("dev.spool.storage.CheckpointMode")
            val path = tempDb()

            val queue = offlineQueue.getMethod("openBlocking", Path::class.java).invoke(null, path) as AutoCloseable
            queue.use {
                val event = queueEvent.getConstructor(String::class.java, String::class.java, String::class.java, String::class.java, String::class.java)
                    .newInstance("e1", "click", "{}", null, null)
                queue.javaClass.getMethod("queueEvent", queueEvent).invoke(queue, event)
                val suspending = queue.javaClass.getMethod("suspending").invoke(queue)
                val blocking = maintenance.getMethod("of", offlineQueue).invoke(null, suspending)
                    .let { it.javaClass.getMethod("blocking").invoke(it) }
                val truncate = checkpointMode.getField("TRUNCATE").get(null)
                blocking.javaClass.getMethod("checkpoint", checkpointMode).invoke(blocking, truncate)
                blocking.javaClass.getMethod("backup", Path::class.java).invoke(blocking, path.resolveSibling("copy.db"))
                queue.javaClass.getMethod("size").invoke(queue) shouldBe 1
            }
        }
    }
})
