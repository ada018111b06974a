package dev.spool.tasks

import java.time.Instant

/**
 * A recurring schedule as stored: what [TaskQueue.schedule] returns and [TaskQueue.schedules]
 * lists. A snapshot; it does not change when the schedule does.
 *
 * Each occurrence is an ordinary task of [type] with [payload], enqueued with `runAfter` equal to
 * its fire time and the idempotency key `schedule:<name>:<fire time in epoch ms>`.
 *
 * @property name the schedule's unique name.
 * @property type the type of the tasks it enqueues.
 * @property payload the JSON payload of each occurrence.
 * @property recurrence when it fires.
 * @property misfire what it does about fire times missed.
 * @property priority the priority of each occurrence.
 * @property maxAttempts the attempts each occurrence may have.
 * @property requires the capabilities each occurrence requires.
 * @property paused true while [TaskQueue.pauseSchedule] holds it: nothing is enqueued.
 * @property nextFireAt the fire time of the occurrence pending now (queued or running), or of the
 *   next one to be enqueued (while paused: the first fire time not yet run); null if the
 *   recurrence has no further fire time.
 * @property pendingTaskId the occurrence enqueued and not yet finished, if any.
 * @property createdAt when the schedule was first created.
 */
public class Schedule(
    public val name: String,
    public val type: String,
    public val payload: String,
    public val recurrence: Recurrence,
    public val misfire: MisfirePolicy,
    public val priority: Int,
    public val maxAttempts: Int,
    public val requires: Set<String>,
    public val paused: Boolean,
    public val nextFireAt: Instant?,
    public val pendingTaskId: TaskId?,
    public val createdAt: Instant,
) {
    /** [pendingTaskId] as a raw id, for Java callers; null if none. */
    public val pendingTaskIdValue: Long? get() = pendingTaskId?.value

    override fun equals(other: Any?): Boolean = other is Schedule && other.name == name && other.type == type &&
        other.payload == payload && other.recurrence == recurrence && other.misfire == misfire &&
        other.priority == priority && other.maxAttempts == maxAttempts && other.requires == requires &&
        other.paused == paused && other.nextFireAt == nextFireAt && other.pendingTaskId == pendingTaskId &&
        other.createdAt == createdAt

    override fun hashCode(): Int = (name.hashCode() * 31 + recurrence.hashCode()) * 31 + (nextFireAt?.hashCode() ?: 0)

    override fun toString(): String =
        "Schedule(name=$name, type=$type, $recurrence, misfire=$misfire, paused=$paused, nextFireAt=$nextFireAt, " +
            "pendingTask=${pendingTaskId?.value})"
}
