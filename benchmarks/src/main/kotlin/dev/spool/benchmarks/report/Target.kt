package dev.spool.benchmarks.report

/**
 * One target from the benchmarks issue: a measured value, compared with a bound.
 *
 * @property figure what is measured, as the issue names it.
 * @property bound the target, as text (`≥ 30×`).
 * @property value the measured value, or null when this run did not measure its inputs.
 * @property passed whether [value] meets the bound; null when not measured.
 * @property note what the value is made of, or what sits beside it.
 */
public class Target(
    public val figure: String,
    public val bound: String,
    public val value: String?,
    public val passed: Boolean?,
    public val note: String,
) {
    /** The targets of the issue, evaluated on one run's figures. */
    public companion object {
        /** Evaluates every target on [figures]; inputs missing from this run give "not measured". */
        public fun evaluate(figures: List<Figure>): List<Target> {
            fun find(name: String, depth: Int, durability: String? = "NORMAL", callers: Int? = null) =
                figures.firstOrNull {
                    it.name == name && it.depth == depth &&
                        (durability == null || it.durability == durability) &&
                        (callers == null || it.callers == callers)
                }

            fun param(name: String, key: String, value: String, durability: String = "FULL") = figures.firstOrNull {
                it.name == name && it.params[key] == value && it.durability == durability
            }

            val b1At5k = find("B1", 5_000, durability = null)
            val b1At500k = find("B1", 500_000, durability = null)
            val s1At5k = find("S1", 5_000)
            val s1At500k = find("S1", 500_000)
            val s2At5k = find("S2", 5_000, callers = 64)
            val lAt1 = find("L@1", 5_000)
            val lAt100 = find("L@100", 5_000)
            val lAt1Full = find("L@1", 5_000, durability = "FULL")
            val tapeAdd = figures.firstOrNull { it.name == "P1 Tape" }
            val loneBlocking = figures.firstOrNull { it.name == "P1 Spool blocking facade" && it.durability == "FULL" }
            val loneSuspend = figures.firstOrNull { it.name == "P1 Spool suspend (runBlocking)" && it.durability == "FULL" }
            val tapeDrain = figures.firstOrNull { it.name == "P2 Tape" }
            val drain = param("P2 Spool markSynced per batch", "backend", "SPOOL")
            val drainFlusher = param("P2 Spool + SyncedRowFlusher", "backend", "SPOOL_FLUSHER")
            val claimOne = param("T1 Spool", "claimBatch", "1", durability = "NORMAL")
            val claimJdbc = figures.firstOrNull { it.name == "T1 JDBC" && it.durability == "NORMAL" }
            val taskEnqueue = figures.firstOrNull { it.name == "T2 Spool" && it.durability == "NORMAL" }
            val statsAt500k = figures.firstOrNull { it.name == "S5 stats" && it.depth == 500_000 }
            fun q1(system: String) = figures.firstOrNull {
                it.name == "Q1 $system" && it.params["batch"] == "32" && it.params["workers"] == "4"
            }
            val pgClaim32 = q1("PostgreSQL TaskQueue")
            val jdbcClaim32 = q1("JDBC SKIP LOCKED")
            val sqliteClaim32 = q1("SQLite TaskQueue")

            fun ratio(top: Figure?, bottom: Figure?): Double? =
                if (top == null || bottom == null) null else top.perSecond / bottom.perSecond

            fun target(figure: String, bound: String, value: Double?, min: Double, note: String, format: (Double) -> String) =
                Target(figure, bound, value?.let(format), value?.let { it >= min }, note)

            fun below(figure: String, boundMicros: Double, measured: Figure?, note: String): Target {
                val p99 = measured?.p99Micros
                return Target(
                    figure, "< ${"%.2f".format(boundMicros / 1000)} ms", p99?.let { "%.3f ms".format(it / 1000) },
                    p99?.let { it < boundMicros }, "$note; p50 ${measured?.p50Micros?.let { "%.3f ms".format(it / 1000) } ?: "not measured"}",
                )
            }

            val times = { v: Double -> "%.2f×".format(v) }
            val plain = { v: Double -> "%.2f".format(v) }
            return listOf(
                target(
                    "S1 / B1 at 5k prefill", "≥ 30×", ratio(s1At5k, b1At5k), 30.0,
                    "S1 ${rate(s1At5k)} vs B1 ${rate(b1At5k)} (the original's own fix reached 1.87×)", times,
                ),
                target(
                    "S2 with 64 callers / B1 at 5k", "≥ 120×", ratio(s2At5k, b1At5k), 120.0,
                    "S2@64 ${rate(s2At5k)} vs B1 ${rate(b1At5k)}", times,
                ),
                target(
                    "S1 / L@1 (NORMAL, 5k)", "≥ 0.8", ratio(s1At5k, lAt1), 0.8,
                    "S1 ${rate(s1At5k)} vs L@1 ${rate(lAt1)}", plain,
                ),
                target(
                    "S1 at 500k ÷ S1 at 5k (NORMAL)", "≥ 0.9", ratio(s1At500k, s1At5k), 0.9,
                    "S1 ${rate(s1At500k)} at 500k vs ${rate(s1At5k)} at 5k (p50 ${micros(s1At500k?.p50Micros)} vs " +
                        "${micros(s1At5k?.p50Micros)}); beside it B1 at 500k ÷ B1 at 5k = " +
                        (ratio(b1At500k, b1At5k)?.let(plain) ?: "not measured") +
                        " (${rate(b1At500k)} vs ${rate(b1At5k)})",
                    plain,
                ),
                below("S1 p99 latency (NORMAL, 5k)", 250.0, s1At5k, "one queueEvent, JMH SampleTime"),
                target(
                    "S2 with 64 callers / L@100 (NORMAL, 5k)", "≥ 0.9", ratio(s2At5k, lAt100), 0.9,
                    "S2@64 ${rate(s2At5k)} vs L@100 ${rate(lAt100)}", plain,
                ),
                target(
                    "P1 Spool FULL, blocking facade / Tape add", "≥ 1.2×", ratio(loneBlocking, tapeAdd), 1.2,
                    "Spool ${rate(loneBlocking)} vs Tape ${rate(tapeAdd)}; raw L@1 FULL ${rate(lAt1Full)} = " +
                        (ratio(lAt1Full, tapeAdd)?.let(times) ?: "not measured") + " Tape",
                    times,
                ),
                target(
                    "P1 Spool FULL, suspend API / Tape add", "≥ 1.2×", ratio(loneSuspend, tapeAdd), 1.2,
                    "Spool ${rate(loneSuspend)} vs Tape ${rate(tapeAdd)}", times,
                ),
                target(
                    "P2 drain cycle FULL, markSynced per batch / Tape", "≥ 1.0×", ratio(drain, tapeDrain), 1.0,
                    "Spool ${rate(drain)} vs Tape ${rate(tapeDrain)} (5,000 events, batches of 100)", times,
                ),
                target(
                    "P2 drain cycle FULL, with the flusher / Tape", "≥ 1.0×", ratio(drainFlusher, tapeDrain), 1.0,
                    "Spool ${rate(drainFlusher)} vs Tape ${rate(tapeDrain)} (final flush included)", times,
                ),
                target(
                    "T1 claim + complete one at a time / plain JDBC (NORMAL)", "≥ 1.0×", ratio(claimOne, claimJdbc), 1.0,
                    "TaskQueue ${rate(claimOne)} vs JDBC ${rate(claimJdbc)}", times,
                ),
                below("T2 TaskQueue enqueue p99 (NORMAL)", 500.0, taskEnqueue, "one enqueue call, HdrHistogram"),
                below("T1 TaskQueue claim p99 (claimBatch=1, NORMAL)", 1000.0, claimOne, "one claim call, HdrHistogram"),
                target(
                    "Q1 PostgreSQL TaskQueue claim + complete (batch 32, 4 workers) / plain-JDBC SKIP LOCKED", "≥ 0.9×",
                    ratio(pgClaim32, jdbcClaim32), 0.9,
                    "TaskQueue ${rate(pgClaim32)} vs JDBC ${rate(jdbcClaim32)} (same server, pool size and synchronous_commit); " +
                        "beside them the SQLite TaskQueue (FULL) ${rate(sqliteClaim32)}",
                    times,
                ),
                target(
                    "S5 stats() at 500k rows", "≥ 1,000 calls/s", statsAt500k?.perSecond, 1000.0,
                    "calls per second, one caller", { v -> "%,.0f/s".format(v) },
                ),
            )
        }

        private fun micros(value: Double?): String = value?.let { "%.0f µs".format(it) } ?: "–"

        private fun rate(figure: Figure?): String = figure?.let { "%,.0f/s".format(it.perSecond) } ?: "not measured"
    }
}
