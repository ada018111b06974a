package dev.spool.tasks

/**
 * A [TaskHandler] for Java: an ordinary blocking method. Wrap it with [TaskHandler.blocking].
 *
 * Returning completes the task; throwing fails it (a [PermanentTaskFailure] dead-letters it). When
 * the worker cancels the task (cancelled, lease lost, stopped past its grace period) the thread
 * running it is interrupted.
 */
public fun interface BlockingTaskHandler {
    /**
     * Does the work of [task] on the calling thread.
     *
     * @throws Exception to fail the attempt.
     */
    @Throws(Exception::class)
    public fun handle(task: Task)
}
