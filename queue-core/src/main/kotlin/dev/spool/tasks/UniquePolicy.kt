package dev.spool.tasks

import kotlin.time.Duration
import kotlin.time.toKotlinDuration

/**
 * What [TaskQueue.enqueue] does when a task with the same idempotency key already exists.
 *
 * The key is held by at most one task at a time. Unfinished tasks ([TaskState.QUEUED],
 * [TaskState.LEASED]) always hold their key. A finished task ([TaskState.SUCCEEDED],
 * [TaskState.DEAD_LETTER], [TaskState.CANCELLED]) holds it for [finishedHoldsKeyFor] after it
 * finished; after that, an enqueue with the key inserts a new task and the finished one gives the
 * key up (its [Task.idempotencyKey] becomes null).
 *
 * When the key is held, [onExisting] decides:
 * - [OnExisting.KEEP]: nothing is added; the holder's id is returned.
 * - [OnExisting.REPLACE]: a holder that is still [TaskState.QUEUED] is cancelled (it gives up the
 *   key) and the new task is inserted in its place, with a new id. A holder that is
 *   [TaskState.LEASED] is running and is kept: its id is returned and nothing is added, because
 *   replacing would run the work twice at once. A finished holder is kept as well (it still holds
 *   the key, so the work was done recently enough).
 *
 * The decision, the cancel and the insert happen in one write transaction, so concurrent enqueues
 * with one key, from any process, leave exactly one holder.
 *
 * **Threading.** Immutable; safe to share.
 *
 * @property onExisting what an existing holder of the key means.
 * @property finishedHoldsKeyFor how long a finished task keeps holding its key;
 *   [Duration.INFINITE] (the default) means forever (until [TaskQueue.purgeFinished] deletes it),
 *   [Duration.ZERO] means only unfinished tasks hold keys.
 * @throws IllegalArgumentException if [finishedHoldsKeyFor] is negative.
 */
public class UniquePolicy @JvmOverloads constructor(
    public val onExisting: OnExisting = OnExisting.KEEP,
    public val finishedHoldsKeyFor: Duration = Duration.INFINITE,
) {
    init {
        require(!finishedHoldsKeyFor.isNegative()) { "finishedHoldsKeyFor must not be negative, was $finishedHoldsKeyFor" }
    }

    /** What an existing holder of the key means for a new enqueue; see [UniquePolicy]. */
    public enum class OnExisting {
        /** Keep the existing task; add nothing. */
        KEEP,

        /** Replace the existing task if it is still queued; keep it if it is running or finished. */
        REPLACE,
    }

    override fun equals(other: Any?): Boolean =
        other is UniquePolicy && other.onExisting == onExisting && other.finishedHoldsKeyFor == finishedHoldsKeyFor

    override fun hashCode(): Int = onExisting.hashCode() * 31 + finishedHoldsKeyFor.hashCode()

    override fun toString(): String = "UniquePolicy(onExisting=$onExisting, finishedHoldsKeyFor=$finishedHoldsKeyFor)"

    /** The common policies, and a factory for Java callers. */
    public companion object {
        /** Keep any existing holder, finished ones forever: the default of [TaskQueue.enqueue]. */
        @JvmField
        public val KEEP: UniquePolicy = UniquePolicy()

        /** Replace a queued holder; finished tasks hold their key forever. */
        @JvmField
        public val REPLACE: UniquePolicy = UniquePolicy(OnExisting.REPLACE)

        /**
         * A policy with a [java.time.Duration].
         *
         * @throws IllegalArgumentException if [finishedHoldsKeyFor] is negative.
         */
        @JvmStatic
        public fun of(onExisting: OnExisting, finishedHoldsKeyFor: java.time.Duration): UniquePolicy =
            UniquePolicy(onExisting, finishedHoldsKeyFor.toKotlinDuration())
    }
}
