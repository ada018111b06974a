package dev.spool.tasks

import dev.spool.queue.OfflineQueue
import dev.spool.storage.QueueStorageException
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlin.time.Duration.Companion.seconds

class TaskQueueSpec : FunSpec({
    test("a TaskQueue refuses an OfflineQueue file and an OfflineQueue refuses a task file") {
        val offline = tempTasksDb()
        OfflineQueue.open(offline).close()
        shouldThrow<QueueStorageException> { TaskQueue.open(offline) }.message shouldContain "OfflineQueue"
        val tasks = tempTasksDb()
        TaskQueue.open(tasks).close()
        shouldThrow<QueueStorageException> { OfflineQueue.open(tasks) }
    }

    test("tasks survive closing and reopening the file") {
        val path = tempTasksDb()
        val id = TaskQueue.open(path).use { it.enqueue("job", payload(1)) }
        TaskQueue.open(path).use { it.get(id)!!.state shouldBe TaskState.QUEUED }
    }
})
