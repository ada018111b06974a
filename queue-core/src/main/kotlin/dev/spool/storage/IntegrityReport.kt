package dev.spool.storage

/**
 * The verdict of SQLite's `PRAGMA integrity_check`, from [Maintenance.integrityCheck][dev.spool.maintenance.Maintenance.integrityCheck].
 *
 * @property problems SQLite's descriptions of what is wrong, at most 100 of them; empty when the
 *   file is sound.
 */
public class IntegrityReport(public val problems: List<String>) {
    /** Whether the database passed: no problem found. */
    public val ok: Boolean get() = problems.isEmpty()

    override fun equals(other: Any?): Boolean = other is IntegrityReport && problems == other.problems

    override fun hashCode(): Int = problems.hashCode()

    override fun toString(): String = if (ok) "IntegrityReport(ok)" else "IntegrityReport(problems=$problems)"
}
