package dev.spool.sync

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/**
 * Whether the device believes it has a network, as the [StateFlow] an [OfflineSync] pauses and
 * resumes on: the shape of Android's `ConnectivityManager` callbacks turned into state.
 *
 * Any `StateFlow<Boolean>` will do for [OfflineSync]; this class is a ready-made one that
 * platform callbacks (or a test) set. Being online is only a belief: a server that is still
 * unreachable shows up as [UploadOutcome.Failed] and a backoff.
 *
 * **Threading.** [setOnline] may be called from any thread.
 *
 * @param initiallyOnline the state before the first [setOnline].
 */
public class Connectivity @JvmOverloads constructor(initiallyOnline: Boolean = true) {
    private val state = MutableStateFlow(initiallyOnline)

    /** True while the device believes it is online. */
    public val online: StateFlow<Boolean> = state.asStateFlow()

    /** Reports a change of network, as a platform callback would. */
    public fun setOnline(value: Boolean) {
        state.value = value
    }

    override fun toString(): String = "Connectivity(online=${state.value})"
}
