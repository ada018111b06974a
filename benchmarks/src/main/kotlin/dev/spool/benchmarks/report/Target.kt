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

            val b1At5k = find("B1", 5_000, durability = null)
            val b1At500k = find("B1", 500_000, durability = null)
            val s1At5k = find("S1", 5_000)
            val s1At500k = find("S1", 500_000)
            val s2At5k = find("S2", 5_000, callers = 64)
            val lAt100 = find("L@100", 5_000)

            fun ratio(top: Figure?, bottom: Figure?): Double? =
                if (top == null || bottom == null) null else top.perSecond / bottom.perSecond

            fun target(figure: String, bound: String, value: Double?, min: Double, note: String, format: (Double) -> String) =
                Target(figure, bound, value?.let(format), value?.let { it >= min }, note)

            val times = { v: Double -> "%.1f×".format(v) }
            val plain = { v: Double -> "%.2f".format(v) }
            val s1p99 = s1At5k?.p99Micros
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
                    "S2 with 64 callers / L at 100 per transaction", "≥ 0.8", ratio(s2At5k, lAt100), 0.8,
                    "S2@64 ${rate(s2At5k)} vs L@100 ${rate(lAt100)}", plain,
                ),
                target(
                    "S1 at 500k ÷ S1 at 5k", "≥ 0.9", ratio(s1At500k, s1At5k), 0.9,
                    "S1 ${rate(s1At500k)} at 500k vs ${rate(s1At5k)} at 5k (p50 ${micros(s1At500k?.p50Micros)} vs " +
                        "${micros(s1At5k?.p50Micros)}); beside it B1 at 500k ÷ B1 at 5k = " +
                        (ratio(b1At500k, b1At5k)?.let(plain) ?: "not measured") +
                        " (${rate(b1At500k)} vs ${rate(b1At5k)})",
                    plain,
                ),
                Target(
                    "S1 p99 latency under NORMAL (5k)", "< 1 ms",
                    s1p99?.let { "%.3f ms".format(it / 1000) },
                    s1p99?.let { it < 1000.0 },
                    "p50 ${s1At5k?.p50Micros?.let { "%.3f ms".format(it / 1000) } ?: "not measured"}",
                ),
            )
        }

        private fun micros(value: Double?): String = value?.let { "%.0f µs".format(it) } ?: "–"

        private fun rate(figure: Figure?): String = figure?.let { "%,.0f/s".format(it.perSecond) } ?: "not measured"
    }
}
