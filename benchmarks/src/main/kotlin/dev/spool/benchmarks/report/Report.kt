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
 * [--command <text>] [--data-dir <dir on the measured disk>] [--elapsed <seconds>]`. With
 * `--parts`, the JSON arrays of several JMH invocations are first merged into `--json`. The charts
 * are written next to the report as `<report>-depth.png` and `<report>-concurrency.png`.
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
        val text = render(
            mode = options["mode"] ?: "unknown",
            command = options["command"] ?: "(not given)",
            elapsed = options["elapsed"],
            dataDir = options["data-dir"]?.let(Paths::get),
            json = json,
            results = results,
            figures = figures,
            charts = listOf(depthChart, concurrencyChart),
        )
        Files.writeString(out, text)
        println("Wrote $out, $depthChart and $concurrencyChart")
    }

    private fun merge(parts: List<Path>, into: Path) {
        val rows = parts.flatMap { Json.parseToJsonElement(Files.readString(it)).jsonArray }
        Files.writeString(into, JsonArray(rows).toString())
    }

    private fun render(
        mode: String,
        command: String,
        elapsed: String?,
        dataDir: Path?,
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
        for (t in Target.evaluate(figures)) {
            val result = when (t.passed) {
                true -> "pass"
                false -> "**miss**"
                null -> "not measured"
            }
            appendLine("| ${t.figure} | ${t.bound} | ${t.value ?: "–"} | $result | ${t.note} |")
        }
        appendLine()
        appendLine("## Charts")
        appendLine()
        for (chart in charts) appendLine("![${chart.fileName}](${chart.fileName})")
        appendLine()
        appendLine("## Every figure")
        appendLine()
        appendLine(
            "Throughput is events per second (calls per second for S5, rows per second for the insert path). " +
                "S1 runs in JMH SampleTime mode: its throughput is one over the mean time per event and its " +
                "percentiles are JMH's. S2's p50/p99 are per-event `queueEvent` latencies recorded by the benchmark " +
                "(measurement iterations only). ± is JMH's 99.9% confidence half-width (blank with too few iterations).",
        )
        appendLine()
        appendLine("| figure | depth | durability | callers | per second | ± | p50 | p99 | what one operation is |")
        appendLine("|---|---:|---|---:|---:|---:|---:|---:|---|")
        val order = listOf(
            "B1", "B2", "L@1", "L@100", "L@1000", "S1", "S2", "S3", "S4", "S5 peek", "S5 stats",
            "S6 per-ack", "S6 per-batch", "S6 flusher", "Insert: Exposed DSL", "Insert: PreparedStatement",
        )
        val sorted = figures.sortedWith(
            compareBy<Figure>({ order.indexOf(it.name).let { i -> if (i < 0) order.size else i } }, { it.name })
                .thenBy { it.durability ?: "" }
                .thenBy { it.callers ?: 0 }
                .thenBy { it.depth ?: 0 },
        )
        for (f in sorted) {
            appendLine(
                "| ${f.name} | ${f.depth?.let { "%,d".format(it) } ?: ""} | ${f.durability ?: "default (FULL, rollback journal)".takeIf { f.name.startsWith("B") } ?: ""} " +
                    "| ${f.callers ?: ""} | ${"%,.0f".format(f.perSecond)} | ${if (f.errorPerSecond.isNaN()) "" else "%,.0f".format(f.errorPerSecond)} " +
                    "| ${latency(f.p50Micros)} | ${latency(f.p99Micros)} | ${f.description} |",
            )
        }
        appendLine()
        appendLine("## Side ratios")
        appendLine()
        ratio(figures, "Insert: PreparedStatement", "Insert: Exposed DSL", "reused PreparedStatement ÷ Exposed DSL (insert path)")
        ratio(figures, "S6 per-batch", "S6 per-ack", "S6 per-batch ÷ per-ack (NORMAL)")
        ratio(figures, "S6 flusher", "S6 per-ack", "S6 flusher ÷ per-ack (NORMAL)")
        ratio(figures, "B2", "B1", "B2 ÷ B1 at 5k (the original's fix)")
        appendLine()
        appendLine("## Machine and command")
        appendLine()
        appendLine("- Cores: ${Runtime.getRuntime().availableProcessors()} (${cpuModel()})")
        appendLine("- JDK (forks): ${results.firstOrNull()?.let { "${it.vm} ${it.jdk}" } ?: "?"}")
        appendLine("- OS: ${System.getProperty("os.name")} ${System.getProperty("os.version")} ${System.getProperty("os.arch")}")
        appendLine("- Memory: ${memory()}")
        if (dataDir != null) {
            appendLine("- Database files: `$dataDir`, on:")
            appendLine()
            appendLine("```")
            appendLine(run("df", "-h", dataDir.toString()).trimEnd())
            appendLine("```")
        }
        elapsed?.let { appendLine("- Wall time of the JMH run: $it s") }
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
