package dev.spool.benchmarks.report

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.jsonArray
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.TimeUnit

/**
 * Writes the Markdown report of one JMH run: every figure, every target of the issue with pass or
 * miss, the machine, the exact command, and links to the PNG charts it renders beside it.
 *
 * Usage: `Report --json <results.json> --out <report.md> [--parts <a.json,b.json>]
 * [--latency <latency.jsonl>] [--mode <mode>]
 * [--command <text>] [--data-dir <dir on the measured disk>] [--elapsed <seconds>]
 * [--load <load averages before and after>] [--notes <notes.md>]`. The notes file, when it
 * exists, is the hand-written analysis of the run (misses, profiles, next ideas), copied into the
 * report under its own heading so a regenerated report keeps it. With `--parts`, the JSON arrays of several JMH
 * invocations are first merged into `--json`. The charts are written next to the report as
 * `<report>-depth.png`, `-concurrency.png`, `-tasks.png`, `-peers.png` and `-postgres.png`, each only
 * when the run measured something it shows.
 *
 * The report never names a directory of the machine it ran on: the data directory is described
 * relative to the project ("the project's target directory") and commands are passed in with
 * project-relative paths by run.sh.
 */
public object Report {
    /** Entry point; see the object's KDoc for the arguments. */
    @JvmStatic
    public fun main(args: Array<String>) {
        System.setProperty("java.awt.headless", "true")
        val options = args.toList().chunked(2).associate { (key, value) -> key.removePrefix("--") to value }
        val json = Paths.get(options.getValue("json"))
        val out = Paths.get(options.getValue("out"))
        options["parts"]?.let { parts -> merge(parts.split(',').map { Paths.get(it) }, json) }
        val results = JmhResult.parseAll(Files.readString(json))
        val latencies = options["latency"]?.let(Paths::get)?.takeIf(Files::exists)
            ?.let { RecordedLatency.parseAll(Files.readString(it)) }.orEmpty()
        val figures = results.map { Figure.of(it, latencies) }
        val stem = out.fileName.toString().removeSuffix(".md")
        val depthChart = Charts.depth(figures, out.resolveSibling("$stem-depth.png"))
        val concurrencyChart = Charts.concurrency(figures, out.resolveSibling("$stem-concurrency.png"))
        val tasksChart = Charts.tasks(figures, out.resolveSibling("$stem-tasks.png"))
        val peersChart = Charts.peers(figures, out.resolveSibling("$stem-peers.png"))
        val postgresChart = Charts.postgres(figures, out.resolveSibling("$stem-postgres.png"))
        val text = render(
            mode = options["mode"] ?: "unknown",
            command = options["command"] ?: "(not given)",
            elapsed = options["elapsed"],
            dataDir = options["data-dir"],
            load = options["load"],
            notes = options["notes"]?.let(Paths::get)?.takeIf(Files::exists)?.let(Files::readString),
            json = json,
            results = results,
            figures = figures,
            charts = listOfNotNull(depthChart, concurrencyChart, peersChart, tasksChart, postgresChart),
        )
        Files.writeString(out, text)
        println("Wrote $out and its charts")
    }

    private fun merge(parts: List<Path>, into: Path) {
        val rows = parts.flatMap { Json.parseToJsonElement(Files.readString(it)).jsonArray }
        Files.writeString(into, JsonArray(rows).toString())
    }

    private fun render(
        mode: String,
        command: String,
        elapsed: String?,
        dataDir: String?,
        load: String?,
        notes: String?,
        json: Path,
        results: List<JmhResult>,
        figures: List<Figure>,
        charts: List<Path>,
    ): String = buildString {
        appendLine("# Spool benchmarks: $mode run")
        appendLine()
        appendLine("Raw JMH results: [`${json.fileName}`](${json.fileName}).")
        if (mode != "full") {
            appendLine()
            appendLine(
                "> **Not a reference run.** `$mode` mode uses short iterations and a subset of the parameters; " +
                    "figures are for checking the suite, not for quoting. Only a full run on a quiet machine counts.",
            )
        }
        appendLine()
        appendLine("## Targets")
        appendLine()
        appendLine("| figure | target | measured | result | detail |")
        appendLine("|---|---|---|---|---|")
        val (measured, unmeasured) = Target.evaluate(figures).partition { it.passed != null }
        for (t in measured) {
            val result = if (t.passed == true) "pass" else "**miss**"
            appendLine("| ${t.figure} | ${t.bound} | ${t.value ?: "–"} | $result | ${t.note} |")
        }
        // A run of a subset (run.sh pg) lists the other targets once, instead of a row each.
        if (unmeasured.isNotEmpty()) {
            appendLine()
            appendLine("Not measured in this run: ${unmeasured.joinToString("; ") { it.figure }}.")
        }
        if (notes != null) {
            appendLine()
            appendLine("## Analysis")
            appendLine()
            appendLine(notes.trim())
        }
        appendLine()
        appendLine("## Charts")
        appendLine()
        for (chart in charts) appendLine("![${chart.fileName}](${chart.fileName})")
        appendLine()
        appendLine("## Every figure")
        appendLine()
        appendLine(
            "Throughput is events per second (calls per second for S5 and T3, tasks per second for T1/T2, rows per " +
                "second for the insert path). S1 runs in JMH SampleTime mode: its throughput is one over the mean time " +
                "per event and its percentiles are JMH's. Every other p50/p99 is recorded by the benchmark itself with " +
                "HdrHistogram (measurement iterations only) and names what one sample is. ± is JMH's 99.9% confidence " +
                "half-width (blank with too few iterations). P figures compare Spool with Square's Tape " +
                "(tape2 2.0.0-beta1, which syncs every add and remove) on the same disk; T figures are the task queue " +
                "and its plain-JDBC baseline. Q figures (issue #11) compare Spool's TaskQueue on PostgreSQL with a " +
                "plain-JDBC SKIP LOCKED table on the same server (same pool size, synchronous_commit on for both) and " +
                "with the SQLite TaskQueue at FULL (an fsync per commit, as PostgreSQL's); workers are threads of " +
                "the benchmark, and batch is the tasks per claim.",
        )
        appendLine()
        appendLine("| figure | depth | durability | callers | other parameters | per second | ± | p50 | p99 | what one operation is |")
        appendLine("|---|---:|---|---:|---|---:|---:|---:|---:|---|")
        val order = listOf(
            "B1", "B2", "L@1", "L@100", "L@1000", "S1", "S2", "S3", "S4", "S5 peek", "S5 stats", "S5 stats after a write",
            "S6 per-ack", "S6 per-batch", "S6 flusher", "P1 Tape", "P1 Spool blocking facade",
            "P1 Spool suspend (runBlocking)", "P1 Spool suspend on Dispatchers.Default", "P2 Tape",
            "P2 Spool markSynced per batch", "P2 Spool + SyncedRowFlusher", "T1 Spool", "T1 JDBC", "T2 Spool",
            "T2 JDBC", "T3 Spool", "Q1", "Q2", "Insert: Exposed DSL", "Insert: PreparedStatement",
        )
        // Q figures: grouped by batch and workers, the three systems side by side.
        fun group(f: Figure) = if (f.name.startsWith("Q")) f.name.take(2) else f.name
        val sorted = figures.sortedWith(
            compareBy<Figure>({ order.indexOf(group(it)).let { i -> if (i < 0) order.size else i } }, { group(it) })
                .thenBy { it.durability ?: "" }
                .thenBy { it.callers ?: 0 }
                .thenBy { it.depth ?: 0 }
                .thenBy { it.params["batch"]?.toIntOrNull() ?: 0 }
                .thenBy { it.params["workers"]?.toIntOrNull() ?: 0 }
                .thenBy { Figure.systemOrder.indexOf(it.name.drop(3)) }
                .thenBy { it.otherParams },
        )
        for (f in sorted) {
            val durability = when {
                f.name.startsWith("P") && f.name.contains("Tape") -> "always synchronous (Tape)"
                f.durability != null -> f.durability
                f.name.startsWith("B") -> "default (FULL, rollback journal)"
                f.name.startsWith("Q") && f.params["system"] == "SQLITE" -> "FULL"
                f.name.startsWith("Q") -> "synchronous_commit on"
                else -> ""
            }
            val description = f.description + (f.latencyOf?.let { "; latency of $it" } ?: "")
            appendLine(
                "| ${f.name} | ${f.depth?.let { "%,d".format(it) } ?: ""} | $durability " +
                    "| ${f.callers ?: ""} | ${f.otherParams} | ${"%,.0f".format(f.perSecond)} | ${if (f.errorPerSecond.isNaN()) "" else "%,.0f".format(f.errorPerSecond)} " +
                    "| ${latency(f.p50Micros)} | ${latency(f.p99Micros)} | $description |",
            )
        }
        appendLine()
        appendLine("## Side ratios")
        appendLine()
        ratio(figures, "Insert: PreparedStatement", "Insert: Exposed DSL", "reused PreparedStatement ÷ Exposed DSL (insert path)")
        ratio(figures, "S6 per-batch", "S6 per-ack", "S6 per-batch ÷ per-ack (NORMAL)")
        ratio(figures, "S6 flusher", "S6 per-ack", "S6 flusher ÷ per-ack (NORMAL)")
        ratio(figures, "B2", "B1", "B2 ÷ B1 at 5k (the original's fix)")
        systemRatios(figures)
        appendLine()
        appendLine("## Machine and command")
        appendLine()
        appendLine("- Cores: ${Runtime.getRuntime().availableProcessors()} (${cpuModel()})")
        appendLine("- JDK (forks): ${results.firstOrNull()?.let { "${it.vm} ${it.jdk}" } ?: "?"}")
        appendLine("- OS: ${System.getProperty("os.name")} ${System.getProperty("os.version")} ${System.getProperty("os.arch")}")
        appendLine("- Memory: ${memory()}")
        if (dataDir != null) {
            val described = if (Paths.get(dataDir).isAbsolute) "a directory given by SPOOL_BENCH_DIR" else "the project's target directory (`$dataDir`)"
            appendLine("- Database files (Spool, Tape and the JDBC baselines alike): $described, on a filesystem of:")
            appendLine()
            appendLine("```")
            appendLine(run("df", "-h", "--output=fstype,size,pcent", dataDir).trimEnd())
            appendLine("```")
        }
        elapsed?.let { appendLine("- Wall time of the JMH run: $it s") }
        load?.let {
            appendLine(
                "- Load average (1, 5, 15 min) before and after the run: $it. The machine is shared with other builds, so " +
                    "absolute figures are noisy; ratios compare figures measured side by side in this one run.",
            )
        }
        appendLine()
        appendLine("```")
        appendLine(command)
        appendLine("```")
    }

    private fun StringBuilder.ratio(figures: List<Figure>, top: String, bottom: String, label: String) {
        val a = figures.firstOrNull { it.name == top && it.depth == 5_000 && it.durability in setOf(null, "NORMAL") }
        val b = figures.firstOrNull { it.name == bottom && it.depth == 5_000 && it.durability in setOf(null, "NORMAL") }
        if (a != null && b != null) appendLine("- $label: %.2f× (%,.0f vs %,.0f per second)".format(a.perSecond / b.perSecond, a.perSecond, b.perSecond))
    }

    /** Q1 and Q2: each TaskQueue ÷ the JDBC SKIP LOCKED baseline at the same batch and worker count. */
    private fun StringBuilder.systemRatios(figures: List<Figure>) {
        val baselines = figures.filter { it.name == "Q1 JDBC SKIP LOCKED" || it.name == "Q2 JDBC SKIP LOCKED" }
        for (base in baselines.sortedWith(compareBy({ it.name }, { it.params["batch"]?.toIntOrNull() ?: 0 }, { it.params["workers"] }))) {
            val what = if (base.name.startsWith("Q1")) "Q1 claim + complete, batch ${base.params["batch"]}" else "Q2 enqueue"
            for (system in listOf("PostgreSQL TaskQueue", "SQLite TaskQueue")) {
                val top = figures.firstOrNull {
                    it.name == base.name.take(3) + system && it.params["batch"] == base.params["batch"] && it.params["workers"] == base.params["workers"]
                } ?: continue
                appendLine(
                    "- $what, ${base.params["workers"]} worker(s): $system ÷ JDBC SKIP LOCKED %.2f× (%,.0f vs %,.0f per second)"
                        .format(top.perSecond / base.perSecond, top.perSecond, base.perSecond),
                )
            }
        }
    }

    private fun latency(micros: Double?): String = when {
        micros == null -> ""
        micros >= 1000 -> "%.2f ms".format(micros / 1000)
        else -> "%.0f µs".format(micros)
    }

    private fun cpuModel(): String = runCatching {
        Files.readAllLines(Paths.get("/proc/cpuinfo")).firstOrNull { it.startsWith("model name") }
            ?.substringAfter(':')?.trim()
    }.getOrNull() ?: System.getProperty("os.arch")

    private fun memory(): String = runCatching {
        Files.readAllLines(Paths.get("/proc/meminfo")).firstOrNull { it.startsWith("MemTotal") }
            ?.substringAfter(':')?.trim()
    }.getOrNull() ?: "unknown"

    private fun run(vararg command: String): String = runCatching {
        val process = ProcessBuilder(*command).redirectErrorStream(true).start()
        val output = process.inputStream.bufferedReader().readText()
        process.waitFor(10, TimeUnit.SECONDS)
        output
    }.getOrElse { "(could not run ${command.joinToString(" ")}: $it)" }
}
