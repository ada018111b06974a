package dev.spool

import dev.spool.queue.OfflineQueue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import java.lang.reflect.Modifier
import java.nio.file.Files
import java.nio.file.Path
import kotlin.io.path.extension
import kotlin.io.path.invariantSeparatorsPathString
import kotlin.io.path.relativeTo
import kotlin.streams.toList

/** queue-core's public classes are plain classes: no `data class` shapes leak into the API. */
class PublicApiShapeSpec : FunSpec({
    test("no public class of queue-core has the component1 and copy of a data class") {
        dataClassShapes(publicClassesOf(OfflineQueue::class.java)).shouldBeEmpty()
    }

    test("the scan recognises a data class") {
        dataClassShapes(listOf(Shaped::class.java, PublicApiShapeSpec::class.java)) shouldContain Shaped::class.java.name
    }
}) {
    data class Shaped(val id: dev.spool.tasks.TaskId, val a: Int)

    companion object {
        /** Public top-level and nested classes compiled into the same directory or jar as [anchor]. */
        fun publicClassesOf(anchor: Class<*>): List<Class<*>> {
            val root = Path.of(anchor.protectionDomain.codeSource.location.toURI())
            val names = if (Files.isDirectory(root)) {
                Files.walk(root).use { paths ->
                    paths.filter { it.extension == "class" }.map { it.relativeTo(root).invariantSeparatorsPathString }.toList()
                }
            } else {
                java.util.jar.JarFile(root.toFile()).use { jar -> jar.entries().toList().map { it.name }.filter { it.endsWith(".class") } }
            }
            return names.filter { it != "module-info.class" }
                .map { Class.forName(it.removeSuffix(".class").replace('/', '.'), false, anchor.classLoader) }
                .filter { Modifier.isPublic(it.modifiers) && !it.isSynthetic }
        }

        fun dataClassShapes(classes: List<Class<*>>): List<String> = classes
            // Names of members taking or returning value classes are mangled: copy-AbCdEfG.
            .filter { c -> c.methods.any { it.name.substringBefore('-') == "component1" } && c.methods.any { it.name.substringBefore('-') == "copy" } }
            .map { it.name }
    }
}
