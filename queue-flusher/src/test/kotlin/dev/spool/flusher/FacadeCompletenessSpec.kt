package dev.spool.flusher

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import java.io.IOException
import java.lang.reflect.Method
import java.lang.reflect.Modifier
import java.util.concurrent.CompletableFuture
import kotlin.coroutines.Continuation

/**
 * SyncedRowFlusher's Java facades keep up with it, and FlusherConfig's builder with its
 * properties: queue-core's FacadeCompletenessSpec, for this module (which sees core's public API
 * only, so it has its own copy of the few lines of reflection).
 */
class FacadeCompletenessSpec : FunSpec({
    test("every suspend member of SyncedRowFlusher has a blocking and a CompletableFuture counterpart") {
        suspendMembers(SyncedRowFlusher::class.java).shouldContainAll("flush", "processBatchResults", "markSynced")
        missingCounterparts(SyncedRowFlusher::class.java, BlockingSyncedRowFlusher::class.java, AsyncSyncedRowFlusher::class.java)
            .shouldBeEmpty()
    }

    test("every blocking counterpart that may touch the file declares IOException") {
        val suspending = suspendMembers(SyncedRowFlusher::class.java)
        publicMethods(BlockingSyncedRowFlusher::class.java)
            .filter { it.name in suspending && it.name !in NEVER_TOUCH_STORAGE }
            .filter { m -> m.exceptionTypes.none { IOException::class.java.isAssignableFrom(it) } }
            .map { it.name }
            .shouldBeEmpty()
    }

    test("every FlusherConfig property has a Java builder setter") {
        val properties = FlusherConfig::class.java.declaredMethods
            .filter { Modifier.isPublic(it.modifiers) && !Modifier.isStatic(it.modifiers) && it.parameterCount == 0 && it.name.startsWith("get") }
            .map { it.name.substringBefore('-').removePrefix("get").replaceFirstChar(Char::lowercase) } // Duration getters are mangled
        properties.shouldContainAll("maxBatch", "maxDelay", "errorHandler")
        val setters = FlusherConfig.Builder::class.java.methods.filter { it.parameterCount == 1 }.map { it.name }
        (properties - setters.toSet()).shouldBeEmpty()
    }
}) {
    companion object {
        /** Recording never touches the file (it returns at once); unsyncedSize reads the cached count. */
        val NEVER_TOUCH_STORAGE = setOf("markSynced", "markEventsSynced", "unsyncedSize")

        fun publicMethods(type: Class<*>): List<Method> = type.methods.filter { !it.isSynthetic && it.declaringClass != Any::class.java }

        fun suspendMembers(type: Class<*>): Set<String> = publicMethods(type)
            .filter { !Modifier.isStatic(it.modifiers) && it.parameterTypes.lastOrNull() == Continuation::class.java }
            .mapTo(sortedSetOf()) { it.name }

        fun missingCounterparts(suspending: Class<*>, blocking: Class<*>, async: Class<*>): List<String> =
            suspendMembers(suspending).flatMap { name ->
                listOfNotNull(
                    "${blocking.simpleName}.$name".takeIf { publicMethods(blocking).none { it.name == name && it.returnType != CompletableFuture::class.java } },
                    "${async.simpleName}.$name".takeIf { publicMethods(async).none { it.name == name && it.returnType == CompletableFuture::class.java } },
                )
            }
    }
}
