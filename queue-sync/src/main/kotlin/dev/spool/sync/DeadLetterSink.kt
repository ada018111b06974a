package dev.spool.sync

import java.io.IOException

/**
 * Where an [OfflineSync] moves the events the server will never take, so a poisoned event can't
 * block the queue. [DeadLetterFile] is the built-in sink.
 *
 * The sync writes the dead letters of a batch first and removes them from the queue only after
 * [write] returned: a crash in between leaves an event in both places (at least once), never in
 * neither.
 *
 * **Threading.** Called from the sync's coroutine, one batch at a time. Do blocking I/O on a
 * dispatcher of your own.
 */
public fun interface DeadLetterSink {
    /**
     * Stores [letters] durably before returning.
     *
     * @throws IOException if they cannot be stored. The round then fails: nothing is removed from
     *   the queue, and the batch is uploaded again after the backoff.
     */
    @Throws(IOException::class)
    public suspend fun write(letters: List<DeadLetter>)
}
