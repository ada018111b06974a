package dev.spool.sync

import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.StateFlow

/**
 * What a [FlushPolicy] may watch to decide when an upload should start.
 *
 * **Threading.** Both flows may be collected from any coroutine; [FlushPolicy.triggers] is
 * collected in the sync's scope.
 */
public interface FlushContext {
    /**
     * The number of events waiting for an upload (queued and not yet acknowledged), after each
     * commit to the queue. It starts with the current number.
     */
    public val pending: Flow<Int>

    /** Whether the device believes it is online; see [Connectivity]. */
    public val online: StateFlow<Boolean>
}
