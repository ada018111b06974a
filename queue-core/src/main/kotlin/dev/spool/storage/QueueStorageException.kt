package dev.spool.storage

import java.io.IOException

/**
 * Thrown when the database cannot be opened or written: a file that is not a Spool or SQLite
 * database, a corrupt file, a read-only file, a full disk or another I/O error.
 *
 * Writes that fail with this exception were rolled back: nothing already committed is lost and
 * the cached count still equals the disk. The file is never overwritten to recover.
 */
public class QueueStorageException(
    message: String,
    cause: Throwable? = null,
) : IOException(message, cause)
