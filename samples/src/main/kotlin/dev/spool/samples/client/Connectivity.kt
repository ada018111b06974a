package dev.spool.samples.client

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/**
 * Whether the device believes it has a network, as a [StateFlow]: the shape of Android's
 * `ConnectivityManager` callbacks turned into state.
 *
 * [SyncWorker] waits for [online] to be true before each batch. Being "online" is only a belief:
 * the server can still be unreachable, which the worker handles as a transient failure with
 * backoff.
 *
 * **Threading.** [setOnline] may be called from any thread.
 *
 * @param initiallyOnline the state before the first [setOnline].
 */
public class Connectivity(initiallyOnline: Boolean = false) {
    private val state = MutableStateFlow(initiallyOnline)

    /** True while the device believes it is online. */
    public val online: StateFlow<Boolean> = state.asStateFlow()

    /** Reports a change of network, as a platform callback would. */
    public fun setOnline(value: Boolean) {
        state.value = value
    }
}
