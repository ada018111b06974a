package dev.spool.tasks

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runInterruptible

/**
 * Runs tasks of one type for a [TaskWorker].
 *
 * Returning normally completes the task. Throwing fails the attempt: it is retried with backoff
 * while attempts are left, unless the exception is a [PermanentTaskFailure], which dead-letters it
 * at once. The handler runs as a coroutine and should be cancellable: the worker cancels it when
 * the task is cancelled or its lease is lost, and when the worker stops past its grace period.
 */
public fun interface TaskHandler {
    /** Does the work of [task]. */
    public suspend fun handle(task: Task)

    /** Adapters for Java callers. */
    public companion object {
        /**
         * A handler that runs [handler] on a thread of [dispatcher], interrupting it when the
         * worker cancels the task.
         */
        @JvmStatic
        @JvmOverloads
        public fun blocking(handler: BlockingTaskHandler, dispatcher: CoroutineDispatcher = Dispatchers.IO): TaskHandler =
            TaskHandler { task -> runInterruptible(dispatcher) { handler.handle(task) } }
    }
}
