package dev.spool.benchmarks.report

import org.knowm.xchart.BitmapEncoder
import org.knowm.xchart.CategoryChart
import org.knowm.xchart.CategoryChartBuilder
import org.knowm.xchart.internal.chartpart.Chart
import org.knowm.xchart.XYChart
import org.knowm.xchart.XYChartBuilder
import org.knowm.xchart.style.markers.SeriesMarkers
import java.nio.file.Path

/**
 * The report's PNG charts, drawn with XChart. Series without points are left out, and a chart with
 * no series at all is not written (each function then returns null), so a run of a subset of the
 * suite (`run.sh pg`) gets only its own charts.
 */
public object Charts {
    /**
     * Throughput against prefill depth (log-log) for B1, B2, S1 and S2 with 64 callers, under
     * NORMAL for the Spool series. Writes [file] (a `.png` path) and returns it, or null without data.
     */
    public fun depth(figures: List<Figure>, file: Path): Path? {
        val chart = chart("Throughput vs prefill depth", "prefill depth (rows)", "events/s (log)")
        chart.styler.isXAxisLogarithmic = true
        series(chart, "B1 (original per-event pattern)", figures.filter { it.name == "B1" }) { it.depth }
        series(chart, "B2 (original with cached count)", figures.filter { it.name == "B2" }) { it.depth }
        series(chart, "Spool S1 (1 caller, NORMAL)", figures.filter { it.name == "S1" && it.durability == "NORMAL" }) { it.depth }
        series(
            chart, "Spool S2 (64 callers, NORMAL)",
            figures.filter { it.name == "S2" && it.callers == 64 && it.durability == "NORMAL" },
        ) { it.depth }
        return save(chart, file)
    }

    /**
     * Throughput against concurrent callers at 5k prefill: S1 as 1 caller and S2 at 8, 64 and 256,
     * one series per durability, plus L@1 and L@100 as flat reference lines. Writes [file].
     */
    public fun concurrency(figures: List<Figure>, file: Path): Path? {
        val chart = chart("Throughput vs concurrent callers (5k prefill)", "concurrent callers", "events/s (log)")
        chart.styler.isXAxisLogarithmic = true
        val callers = figures.filter { (it.name == "S1" || it.name == "S2") && it.depth == 5_000 }
        val xs = callers.mapNotNull { it.callers }.distinct().sorted()
        for (durability in listOf("NORMAL", "FULL")) {
            series(chart, "Spool ($durability)", callers.filter { it.durability == durability }) { it.callers }
        }
        for (name in listOf("L@1", "L@100")) {
            val raw = figures.firstOrNull { it.name == name && it.depth == 5_000 && it.durability == "NORMAL" } ?: continue
            if (xs.size < 2) continue
            chart.addSeries("$name raw JDBC (NORMAL)", xs.map { it.toDouble() }, xs.map { raw.perSecond })
                .marker = SeriesMarkers.NONE
        }
        return save(chart, file)
    }

    /**
     * TaskQueue against its plain-JDBC baseline (NORMAL), as bars: claim + complete with one task
     * per claim and with 32, and enqueue. Writes [file].
     */
    public fun tasks(figures: List<Figure>, file: Path): Path? {
        val chart = bars("TaskQueue vs plain JDBC (NORMAL, one caller)", "tasks/s")
        val rows = listOf(
            "claim+complete, 1/claim" to Pair(figures.firstOrNull { it.name == "T1 Spool" && it.params["claimBatch"] == "1" }, figures.firstOrNull { it.name == "T1 JDBC" }),
            "claim+complete, 32/claim" to Pair(figures.firstOrNull { it.name == "T1 Spool" && it.params["claimBatch"] == "32" }, null),
            "enqueue" to Pair(figures.firstOrNull { it.name == "T2 Spool" }, figures.firstOrNull { it.name == "T2 JDBC" }),
        ).filter { it.second.first != null || it.second.second != null }
        if (rows.isNotEmpty()) {
            val labels = rows.map { it.first }
            chart.addSeries("Spool TaskQueue", labels, rows.map { it.second.first?.perSecond ?: 0.0 })
            chart.addSeries("plain JDBC baseline", labels, rows.map { it.second.second?.perSecond ?: 0.0 })
        }
        return save(chart, file)
    }

    /**
     * Spool against Square's Tape at equal durability (FULL), as bars: one caller adding (P1, with
     * the raw-JDBC L@1 FULL limit beside it) and the drain cycle (P2). Writes [file].
     */
    public fun peers(figures: List<Figure>, file: Path): Path? {
        val chart = bars("Spool (FULL) vs Tape, one caller", "events/s")
        val add = listOf(
            "Tape" to figures.firstOrNull { it.name == "P1 Tape" },
            "Spool blocking" to figures.firstOrNull { it.name == "P1 Spool blocking facade" && it.durability == "FULL" },
            "Spool suspend" to figures.firstOrNull { it.name == "P1 Spool suspend (runBlocking)" && it.durability == "FULL" },
            "Spool on Default" to figures.firstOrNull { it.name == "P1 Spool suspend on Dispatchers.Default" && it.durability == "FULL" },
            "raw JDBC L@1" to figures.firstOrNull { it.name == "L@1" && it.depth == 5_000 && it.durability == "FULL" },
        )
        val drain = listOf(
            "Tape" to figures.firstOrNull { it.name == "P2 Tape" },
            "Spool per batch" to figures.firstOrNull { it.name == "P2 Spool markSynced per batch" && it.durability == "FULL" },
            "Spool + flusher" to figures.firstOrNull { it.name == "P2 Spool + SyncedRowFlusher" && it.durability == "FULL" },
        )
        val present = (add.map { "add: ${it.first}" to it.second } + drain.map { "drain: ${it.first}" to it.second }).filter { it.second != null }
        if (present.isNotEmpty()) chart.addSeries("events/s", present.map { it.first }, present.map { it.second!!.perSecond })
        return save(chart, file)
    }

    /**
     * Q1 and Q2 (issue #11), as bars grouped by batch and worker count: Spool's TaskQueue on
     * PostgreSQL, the plain-JDBC SKIP LOCKED baseline on the same server, and the SQLite TaskQueue.
     * Writes [file], or returns null when the run measured none of them.
     */
    public fun postgres(figures: List<Figure>, file: Path): Path? {
        val chart = bars("TaskQueue on PostgreSQL vs plain JDBC SKIP LOCKED (and SQLite)", "tasks/s")
        val q = figures.filter { it.name.startsWith("Q1 ") || it.name.startsWith("Q2 ") }
        fun label(f: Figure): String {
            val workers = f.params["workers"] ?: "?"
            val who = if (workers == "1") "1 worker" else "$workers workers"
            return if (f.name.startsWith("Q2 ")) "enqueue, $who" else "${f.params["batch"]}/claim, $who"
        }
        val labels = q.sortedWith(compareBy({ it.name.take(2) }, { it.params["batch"]?.toIntOrNull() ?: 0 }, { it.params["workers"]?.toIntOrNull() ?: 0 }))
            .map(::label).distinct()
        if (labels.isNotEmpty()) {
            for (system in Figure.systemOrder) {
                val mine = q.filter { it.name.endsWith(system) }
                if (mine.isEmpty()) continue
                chart.addSeries(system, labels, labels.map { l -> mine.firstOrNull { label(it) == l }?.perSecond ?: 0.0 })
            }
        }
        return save(chart, file)
    }

    private fun bars(title: String, y: String): CategoryChart =
        CategoryChartBuilder().width(900).height(540).title(title).yAxisTitle(y).build().apply {
            styler.isLegendVisible = true
            styler.yAxisDecimalPattern = "#,###"
            styler.setChartBackgroundColor(java.awt.Color.WHITE)
            styler.xAxisLabelRotation = 20
        }

    private fun chart(title: String, x: String, y: String): XYChart =
        XYChartBuilder().width(900).height(540).title(title).xAxisTitle(x).yAxisTitle(y).build().apply {
            styler.isYAxisLogarithmic = true
            styler.isLegendVisible = true
            styler.yAxisDecimalPattern = "#,###"
            styler.setChartBackgroundColor(java.awt.Color.WHITE)
        }

    private fun series(chart: XYChart, name: String, figures: List<Figure>, x: (Figure) -> Int?) {
        val points = figures.mapNotNull { f -> x(f)?.let { it to f.perSecond } }.sortedBy { it.first }
        if (points.isEmpty()) return
        chart.addSeries(name, points.map { it.first.toDouble() }, points.map { it.second })
    }

    private fun save(chart: Chart<*, *>, file: Path): Path? {
        if (chart.seriesMap.isEmpty()) return null
        return write(chart, file)
    }

    private fun write(chart: Chart<*, *>, file: Path): Path {
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG)
        return file
    }
}
