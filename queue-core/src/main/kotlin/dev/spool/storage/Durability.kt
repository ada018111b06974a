package dev.spool.storage

/** How hard a commit works to reach the disk before the caller resumes. */
public enum class Durability {
    /** WAL with `synchronous=NORMAL`: a committed write survives a process crash. */
    NORMAL,

    /** WAL with `synchronous=FULL`: a committed write also survives power loss. */
    FULL,
}
