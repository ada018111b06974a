package dev.spool.tasks

/**
 * What one [TaskQueue.sweep] did.
 *
 * @property requeued leased tasks whose lease had expired (or whose worker went stale) that were
 *   put back in the queue, their attempt counted.
 * @property deadLettered such tasks that had no attempts left and went to [TaskState.DEAD_LETTER].
 * @property staleWorkers workers removed from the registry for not heartbeating in time.
 */
public class SweepResult(
    public val requeued: Int,
    public val deadLettered: Int,
    public val staleWorkers: Int,
) {
    override fun equals(other: Any?): Boolean = other is SweepResult &&
        other.requeued == requeued &&
        other.deadLettered == deadLettered &&
        other.staleWorkers == staleWorkers

    override fun hashCode(): Int = listOf(requeued, deadLettered, staleWorkers).hashCode()

    override fun toString(): String = "SweepResult(requeued=$requeued, deadLettered=$deadLettered, staleWorkers=$staleWorkers)"
}
