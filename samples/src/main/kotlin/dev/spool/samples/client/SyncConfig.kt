package dev.spool.samples.client

import dev.spool.samples.Wire
import kotlinx.coroutines.Dispatchers
import kotlin.coroutines.CoroutineContext
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/**
 * How a [SyncWorker] uploads.
 *
 * @property maxBatchEvents the most events per request.
 * @property maxBatchBytes the most bytes per request body before compression: the server's limit.
 * @property maxRejections how many times the server may reject an event (`error`) before the
 *   next rejection moves it to the dead-letter file.
 * @property backoff the wait after consecutive transient failures.
 * @property idlePoll how long an idle worker waits for a new event before looking again.
 * @property ioContext where the dead-letter file is written.
 * @throws IllegalArgumentException if a count is not positive or [maxRejections] is negative.
 */
public class SyncConfig(
    public val maxBatchEvents: Int = 100,
    public val maxBatchBytes: Int = Wire.DEFAULT_MAX_BATCH_BYTES,
    public val maxRejections: Int = 3,
    public val backoff: Backoff = Backoff(),
    public val idlePoll: Duration = 250.milliseconds,
    public val ioContext: CoroutineContext = Dispatchers.IO,
) {
    init {
        require(maxBatchEvents >= 1) { "maxBatchEvents must be at least 1, was $maxBatchEvents" }
        require(maxBatchBytes >= 1) { "maxBatchBytes must be at least 1, was $maxBatchBytes" }
        require(maxRejections >= 0) { "maxRejections must not be negative, was $maxRejections" }
        require(idlePoll.isPositive()) { "idlePoll must be positive, was $idlePoll" }
    }

    override fun toString(): String =
        "SyncConfig(maxBatchEvents=$maxBatchEvents, maxBatchBytes=$maxBatchBytes, " +
            "maxRejections=$maxRejections, backoff=$backoff, idlePoll=$idlePoll)"
}
