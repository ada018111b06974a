package dev.spool

import dev.spool.maintenance.AsyncMaintenance
import dev.spool.maintenance.BlockingMaintenance
import dev.spool.maintenance.Maintenance
import dev.spool.queue.AsyncOfflineQueue
import dev.spool.queue.BlockingOfflineQueue
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.tasks.AsyncTaskQueue
import dev.spool.tasks.BlockingTaskQueue
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskWorkerConfig
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import java.io.IOException
import java.lang.reflect.Method
import java.lang.reflect.Modifier
import java.util.concurrent.CompletableFuture
import kotlin.coroutines.Continuation

/**
 * The Java facades keep up with the suspending API: a new suspend member without a blocking and a
 * CompletableFuture counterpart, a blocking method that hides `IOException` from Java, or a config
 * property without a builder setter fails this spec. queue-flusher has the same check for
 * SyncedRowFlusher and FlusherConfig.
 */
class FacadeCompletenessSpec : FunSpec({
    test("every suspend member has a blocking and a CompletableFuture counterpart") {
        val gaps = FACADES.flatMap { it.missingCounterparts() }
        (gaps - DELIBERATELY_ABSENT.keys - PENDING_TASK_FACADE_GAPS).shouldBeEmpty()
    }

    test("every blocking counterpart of a suspend member declares IOException, so Java can catch QueueStorageException") {
        val gaps = FACADES.flatMap { it.missingThrows() }
        (gaps - PENDING_TASK_FACADE_GAPS).shouldBeEmpty()
    }

    test("every config property has a Java builder setter") {
        val gaps = CONFIGS.flatMap { (config, builder) -> missingSetters(config, builder) }
        (gaps - PENDING_TASK_FACADE_GAPS).shouldBeEmpty()
    }

    test("the allowlists name only gaps that still exist, so they shrink as facades are filled") {
        val gaps = FACADES.flatMap { it.missingCounterparts() + it.missingThrows() } +
            CONFIGS.flatMap { (config, builder) -> missingSetters(config, builder) }
        ((DELIBERATELY_ABSENT.keys + PENDING_TASK_FACADE_GAPS) - gaps.toSet()).shouldBeEmpty()
    }

    test("the check finds a suspend member added without counterparts, and a blocking method without IOException") {
        val probe = Facade(Probe::class.java, ProbeBlocking::class.java, ProbeAsync::class.java)
        probe.missingCounterparts() shouldContainExactlyInAnyOrder listOf("ProbeBlocking.added", "ProbeAsync.added")
        probe.missingThrows() shouldContainExactlyInAnyOrder listOf("ProbeBlocking.present@Throws")
        missingSetters(ProbeConfig::class.java, ProbeConfig.Builder::class.java) shouldContainExactlyInAnyOrder
            listOf("ProbeConfig.Builder.unset")
    }
}) {
    /** Test doubles for the self-check: one member with counterparts, one without. */
    interface Probe {
        suspend fun present(): Int
        suspend fun added(): Int
    }

    class ProbeBlocking {
        fun present(): Int = 1
    }

    class ProbeAsync {
        fun present(): CompletableFuture<Int> = CompletableFuture.completedFuture(1)
    }

    class ProbeConfig(val set: Int, val unset: Int) {
        class Builder {
            fun set(value: Int): Builder = this
        }
    }

    /** A suspending type and its two Java facades. */
    class Facade(val suspending: Class<*>, val blocking: Class<*>, val async: Class<*>) {
        /** Names of the public suspend members (value-class mangling such as `complete-abc` removed). */
        val suspendMembers: Set<String> = suspending.methods
            .filter { !it.isSynthetic && !Modifier.isStatic(it.modifiers) && it.parameterTypes.lastOrNull() == Continuation::class.java }
            .mapTo(sortedSetOf()) { it.name.substringBefore('-') }

        private fun publicMethods(type: Class<*>): List<Method> =
            type.methods.filter { !it.isSynthetic && it.declaringClass != Any::class.java }

        /** `Facade.member` for each suspend member without a counterpart in [blocking] or [async]. */
        fun missingCounterparts(): List<String> = suspendMembers.flatMap { name ->
            listOfNotNull(
                "${blocking.simpleName}.$name".takeIf {
                    publicMethods(blocking).none { it.name.substringBefore('-') == name && it.returnType != CompletableFuture::class.java }
                },
                "${async.simpleName}.$name".takeIf {
                    publicMethods(async).none { it.name.substringBefore('-') == name && it.returnType == CompletableFuture::class.java }
                },
            )
        }

        /** `Facade.member@Throws` for each blocking counterpart that may touch storage but hides IOException. */
        fun missingThrows(): List<String> = publicMethods(blocking)
            .filter { it.name.substringBefore('-') in suspendMembers && "${blocking.simpleName}.${it.name}" !in NEVER_TOUCH_STORAGE }
            .filter { method -> method.exceptionTypes.none { IOException::class.java.isAssignableFrom(it) } }
            .mapTo(sortedSetOf()) { "${blocking.simpleName}.${it.name.substringBefore('-')}@Throws" }
            .toList()
    }

    companion object {
        val FACADES = listOf(
            Facade(OfflineQueue::class.java, BlockingOfflineQueue::class.java, AsyncOfflineQueue::class.java),
            Facade(TaskQueue::class.java, BlockingTaskQueue::class.java, AsyncTaskQueue::class.java),
            Facade(Maintenance::class.java, BlockingMaintenance::class.java, AsyncMaintenance::class.java),
        )

        /** Each config class and its Java builder (null: it has none yet). */
        val CONFIGS: List<Pair<Class<*>, Class<*>?>> = listOf(
            QueueConfig::class.java to QueueConfig.Builder::class.java,
            TaskQueueConfig::class.java to TaskQueueConfig.Builder::class.java,
            TaskWorkerConfig::class.java to TaskWorkerConfig.Builder::class.java,
        )

        /**
         * Suspend members deliberately without a counterpart, with the reason. Empty today: add
         * an entry here (with its reason) rather than leaving a member out silently.
         */
        val DELIBERATELY_ABSENT: Map<String, String> = emptyMap()

        /** Properties whose builder setter has another name, and that name. */
        val SETTER_NAMED_OTHERWISE = mapOf(
            "TaskQueueConfig.retryPolicies" to "retryPolicy", // retryPolicy(type, policy), one type at a time
        )

        /** Blocking counterparts that never touch the file, so they declare no IOException. */
        val NEVER_TOUCH_STORAGE = setOf(
            "BlockingOfflineQueue.size", // the cached count, O(1)
        )

        /**
         * Gaps in the task facades while they were rewritten for fenced leases; the leases work
         * filled them all. The spec above fails as soon as an entry here is no longer a gap.
         */
        val PENDING_TASK_FACADE_GAPS: Set<String> = emptySet()

        /** `Config.Builder.property` for each public property of [config] without a setter of its name on [builder]. */
        fun missingSetters(config: Class<*>, builder: Class<*>?): List<String> {
            val owner = config.simpleName
            if (builder == null) return listOf("$owner.Builder")
            val properties = config.declaredMethods
                .filter { Modifier.isPublic(it.modifiers) && !Modifier.isStatic(it.modifiers) && it.parameterCount == 0 }
                .mapNotNull { m ->
                    val name = m.name.substringBefore('-') // getters of value-class properties are mangled
                    when {
                        name.startsWith("get") && name.length > 3 -> name.removePrefix("get")
                        name.startsWith("is") && name.length > 2 && m.returnType == Boolean::class.javaPrimitiveType -> name.removePrefix("is")
                        else -> null
                    }?.replaceFirstChar { it.lowercase() }
                }
            val setters = builder.methods.filter { it.parameterCount >= 1 }.map { it.name }.toSet()
            return properties.filter { (SETTER_NAMED_OTHERWISE["$owner.$it"] ?: it) !in setters }.map { "$owner.Builder.$it" }
        }
    }
}
