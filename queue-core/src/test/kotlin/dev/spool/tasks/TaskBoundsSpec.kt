package dev.spool.tasks

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

/** The documented bounds of TaskQueue's arguments: each refused on the caller's thread, naming the argument, storing nothing. */
class TaskBoundsSpec : FunSpec({
    test("a type of 200 characters is accepted and one of 201 is refused, naming the type") {
        withTasks { q ->
            q.enqueue("t".repeat(200), payload(1))
            shouldThrow<IllegalArgumentException> { q.enqueue("t".repeat(201), payload(2)) }.message shouldContain "type"
            q.stats().count(TaskState.QUEUED) shouldBe 1
        }
    }

    test("priority is accepted from 0 to 1,000,000 and refused outside, naming priority") {
        withTasks { q ->
            q.enqueue("job", payload(1), priority = 0)
            q.enqueue("job", payload(2), priority = 1_000_000)
            for (bad in listOf(-1, 1_000_001, Int.MIN_VALUE)) {
                shouldThrow<IllegalArgumentException> { q.enqueue("job", payload(3), priority = bad) }.message shouldContain "priority"
            }
            q.stats().count(TaskState.QUEUED) shouldBe 2
        }
    }

    test("an empty set of types is refused (null means every type) and claims nothing") {
        withTasks { q ->
            q.enqueue("job", payload(1))
            shouldThrow<IllegalArgumentException> { q.claim("w", types = emptySet()) }.message shouldContain "types"
            q.stats().count(TaskState.QUEUED) shouldBe 1
            q.claim("w", types = null).map { it.type } shouldBe listOf("job")
        }
    }

    test("a blank worker id, type or capability is refused before anything is stored") {
        withTasks { q ->
            shouldThrow<IllegalArgumentException> { q.enqueue(" ", payload(1)) }.message shouldContain "type"
            shouldThrow<IllegalArgumentException> { q.enqueue("job", payload(1), requires = setOf(" ")) }.message shouldContain "requires"
            shouldThrow<IllegalArgumentException> { q.claim(" ") }.message shouldContain "workerId"
            shouldThrow<IllegalArgumentException> { q.claim("w", capabilities = setOf("")) }.message shouldContain "capabilities"
            q.list(TaskFilter()).tasks.shouldBeEmpty()
        }
    }
})
