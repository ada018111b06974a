package dev.spool.benchmarks.report

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files

class ReportSpec : FunSpec({
    fun row(method: String, mode: String, unit: String, score: Double, params: String, percentiles: String = "") = """
        {"benchmark":"dev.spool.benchmarks.X.$method","mode":"$mode","jdkVersion":"17","vmName":"VM",
         "params":{$params},
         "primaryMetric":{"score":$score,"scoreError":"NaN","scoreUnit":"$unit"${if (percentiles.isEmpty()) "" else ",\"scorePercentiles\":{$percentiles}"}}}
    """.trimIndent()

    val s1At5k = row(
        "s1QueueEvent", "sample", "us/op", 50.0, "\"depth\":\"5000\",\"durability\":\"NORMAL\"",
        "\"50.0\":40.0,\"99.0\":800.0",
    )
    val b1At5k = row("b1CountPerEvent", "thrpt", "ops/s", 400.0, "\"depth\":\"5000\"")
    val s2At5k = row("s2ConcurrentQueueEvent", "thrpt", "ops/s", 48_000.0, "\"callers\":\"64\",\"depth\":\"5000\",\"durability\":\"NORMAL\"")
    val lAt100 = row("l100PerTransaction", "thrpt", "ops/s", 50_000.0, "\"depth\":\"5000\",\"durability\":\"NORMAL\"")

    test("a SampleTime result becomes events per second from its mean, keeping its percentiles") {
        val figure = Figure.of(JmhResult.parseAll("[$s1At5k]").single())
        figure.name shouldBe "S1"
        figure.perSecond shouldBe (20_000.0 plusOrMinus 0.001)
        figure.p50Micros shouldBe 40.0
        figure.p99Micros shouldBe 800.0
    }

    test("recorded per-event latencies are attached to the result with the same method and parameters") {
        val latency = RecordedLatency.parseAll(
            """{"method":"s2ConcurrentQueueEvent","params":{"depth":"5000","durability":"NORMAL","callers":"64"},"count":9,"p50us":900.0,"p99us":5000.0,"p999us":9000.0}""",
        )
        val figure = Figure.of(JmhResult.parseAll("[$s2At5k]").single(), latency)
        figure.perSecond shouldBe 48_000.0
        figure.p50Micros shouldBe 900.0
        figure.p99Micros shouldBe 5000.0
    }

    val claimOne = row("taskClaimAndComplete", "thrpt", "ops/s", 9_000.0, "\"claimBatch\":\"1\",\"durability\":\"NORMAL\"")
    val claim32 = row("taskClaimAndComplete", "thrpt", "ops/s", 20_000.0, "\"claimBatch\":\"32\",\"durability\":\"NORMAL\"")
    val claimJdbc = row("jdbcTaskClaimAndComplete", "thrpt", "ops/s", 10_000.0, "\"durability\":\"NORMAL\"")
    val tapeAdd = row("p1LoneAdd", "thrpt", "ops/s", 2_000.0, "\"caller\":\"TAPE\",\"depth\":\"5000\",\"durability\":\"FULL\"")
    val spoolAdd = row("p1LoneAdd", "thrpt", "ops/s", 2_600.0, "\"caller\":\"SPOOL_BLOCKING\",\"depth\":\"5000\",\"durability\":\"FULL\"")
    val taskLatencies = """
        {"method":"taskClaimAndComplete","params":{"claimBatch":"1","durability":"NORMAL"},"what":"one claim call","count":9,"p50us":300.0,"p99us":1500.0,"p999us":2000.0}
        {"method":"taskClaimAndComplete","params":{"claimBatch":"32","durability":"NORMAL"},"what":"one claim call","count":9,"p50us":700.0,"p99us":900.0,"p999us":2000.0}
    """.trimIndent()

    test("targets compare the issue's ratios and say when an input was not measured") {
        val figures = JmhResult.parseAll("[$s1At5k,$b1At5k,$s2At5k,$lAt100,$claimOne,$claimJdbc,$tapeAdd,$spoolAdd]")
            .map { Figure.of(it, RecordedLatency.parseAll(taskLatencies)) }
        val targets = Target.evaluate(figures).associateBy { it.figure }
        targets.getValue("S1 / B1 at 5k prefill").value shouldBe "50.00×" // S1 20,000/s over B1 400/s
        targets.getValue("S1 / B1 at 5k prefill").passed shouldBe true
        targets.getValue("S2 with 64 callers / B1 at 5k").passed shouldBe true // 120x B1
        targets.getValue("S2 with 64 callers / L@100 (NORMAL, 5k)").value shouldBe "0.96"
        targets.getValue("S1 at 500k ÷ S1 at 5k (NORMAL)").passed shouldBe null // nothing at 500k in this run
        targets.getValue("S1 p99 latency (NORMAL, 5k)").passed shouldBe false // 800 µs is over 0.25 ms
        targets.getValue("P1 Spool FULL, blocking facade / Tape add").value shouldBe "1.30×"
        targets.getValue("P1 Spool FULL, blocking facade / Tape add").passed shouldBe true
        targets.getValue("T1 claim + complete one at a time / plain JDBC (NORMAL)").value shouldBe "0.90×"
        targets.getValue("T1 claim + complete one at a time / plain JDBC (NORMAL)").passed shouldBe false
        targets.getValue("T1 TaskQueue claim p99 (claimBatch=1, NORMAL)").value shouldBe "1.500 ms"
        targets.getValue("T2 TaskQueue enqueue p99 (NORMAL)").passed shouldBe null
    }

    test("task figures are labelled with their parameters: batch claims, one-at-a-time claims and the baseline never collide") {
        val figures = JmhResult.parseAll("[$claimOne,$claim32,$claimJdbc]").map { Figure.of(it, RecordedLatency.parseAll(taskLatencies)) }
        figures.map { "${it.name} ${it.otherParams}" } shouldBe listOf("T1 Spool claimBatch=1", "T1 Spool claimBatch=32", "T1 JDBC ")
        figures[0].p99Micros shouldBe 1500.0
        figures[1].p99Micros shouldBe 900.0
        figures[0].latencyOf shouldBe "one claim call"
    }

    test("the report carries recorded latencies, the parameters and the hand-written analysis, and names no absolute path") {
        val dir = Files.createTempDirectory("report-spec")
        val json = dir.resolve("run.json").also { Files.writeString(it, "[$claimOne,$claim32,$claimJdbc,$tapeAdd,$spoolAdd]") }
        val latency = dir.resolve("run.latency.jsonl").also { Files.writeString(it, taskLatencies) }
        val notes = dir.resolve("run.notes.md").also { Files.writeString(it, "T1 misses: two commits per task.\n") }
        Report.main(
            arrayOf(
                "--json", json.toString(), "--latency", latency.toString(), "--out", dir.resolve("run.md").toString(),
                "--mode", "smoke", "--data-dir", "benchmarks/target/bench-data", "--load", "1.0 1.0 1.0 / 2.0 2.0 2.0",
                "--notes", notes.toString(),
            ),
        )
        val text = Files.readString(dir.resolve("run.md"))
        text shouldContain "| T1 Spool |  | NORMAL |  | claimBatch=1 | 9,000 |  | 300 µs | 1.50 ms |"
        text shouldContain "| T1 Spool |  | NORMAL |  | claimBatch=32 | 20,000 |  | 700 µs | 900 µs |"
        text shouldContain "the project's target directory (`benchmarks/target/bench-data`)"
        text shouldContain "## Analysis\n\nT1 misses: two commits per task."
        text shouldNotContain dir.toString()
        Files.exists(dir.resolve("run-tasks.png")) shouldBe true
        Files.exists(dir.resolve("run-peers.png")) shouldBe true
    }

    test("the report writes the Markdown table and both charts next to it") {
        val dir = Files.createTempDirectory("report-spec")
        val json = dir.resolve("run.json").also { Files.writeString(it, "[$s1At5k,$b1At5k,$s2At5k,$lAt100]") }
        Report.main(arrayOf("--json", json.toString(), "--out", dir.resolve("run.md").toString(), "--mode", "smoke"))
        Files.readString(dir.resolve("run.md")) shouldContain "| S1 / B1 at 5k prefill | ≥ 30× | 50.00× | pass |"
        (Files.size(dir.resolve("run-depth.png")) > 0) shouldBe true
        Files.exists(dir.resolve("run-concurrency.png")) shouldBe true
    }
})
