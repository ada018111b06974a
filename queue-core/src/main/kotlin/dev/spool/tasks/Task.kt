package dev.spool.tasks

import java.time.Instant

/**
 * A snapshot of one task as stored: what [TaskQueue.claim], [TaskQueue.get] and [TaskQueue.list]
 * return. It does not change when the task does; read it again for news.
 *
 * @property id the task's identity.
 * @property type what kind of work it is; a [TaskWorker] picks the handler by it.
 * @property payload the task's JSON text, as enqueued.
 * @property priority lower numbers are more urgent (see [ClaimStrategy]).
 * @property state where the task is in its life.
 * @property attempts how many times it was claimed, including the current lease if [state] is
 *   [TaskState.LEASED].
 * @property maxAttempts how many claims it may have in all before it is dead-lettered.
 * @property runAfter the earliest time it may be claimed (again).
 * @property requires the capabilities a worker must have to claim it.
 * @property idempotencyKey the key it was enqueued with, if any.
 * @property lease the receipt of the claim holding it, while [TaskState.LEASED]: pass it to
 *   [TaskQueue.complete], [TaskQueue.fail], [TaskQueue.release] or [TaskQueue.renew].
 * @property leaseOwner the worker holding its lease, while [TaskState.LEASED].
 * @property leaseExpiresAt when that lease ends unless renewed, while [TaskState.LEASED].
 * @property lastError the error of its last failed attempt, if any; kept in [TaskState.DEAD_LETTER].
 * @property createdAt when it was enqueued.
 * @property updatedAt when it last changed.
 */
public class Task(
    public val id: TaskId,
    public val type: String,
    public val payload: String,
    public val priority: Int,
    public val state: TaskState,
    public val attempts: Int,
    public val maxAttempts: Int,
    public val runAfter: Instant,
    public val requires: Set<String>,
    public val idempotencyKey: String?,
    public val lease: TaskLease?,
    public val leaseOwner: String?,
    public val leaseExpiresAt: Instant?,
    public val lastError: String?,
    public val createdAt: Instant,
    public val updatedAt: Instant,
) {
    /** The raw id, for Java callers (value classes are mangled in Java signatures). */
    public val idValue: Long get() = id.value

    override fun equals(other: Any?): Boolean = other is Task && other.id == id && other.state == state &&
        other.attempts == attempts && other.updatedAt == updatedAt && other.lease == lease &&
        other.leaseExpiresAt == leaseExpiresAt && other.runAfter == runAfter && other.lastError == lastError

    override fun hashCode(): Int = id.hashCode() * 31 + state.hashCode()

    override fun toString(): String =
        "Task(id=${id.value}, type=$type, state=$state, priority=$priority, attempts=$attempts/$maxAttempts, " +
            "runAfter=$runAfter, lease=$lease, leaseExpiresAt=$leaseExpiresAt, lastError=$lastError)"
}
