package dev.spool.benchmarks.report

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
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

    test("targets compare the issue's ratios and say when an input was not measured") {
        val figures = JmhResult.parseAll("[$s1At5k,$b1At5k,$s2At5k,$lAt100]").map { Figure.of(it) }
        val targets = Target.evaluate(figures)
        targets shouldHaveSize 5
        targets[0].value shouldBe "50.0×" // S1 20,000/s over B1 400/s
        targets[0].passed shouldBe true
        targets[1].passed shouldBe true // S2@64 is 120x B1
        targets[2].value shouldBe "0.96"
        targets[3].passed shouldBe null // nothing at 500k in this run
        targets[4].passed shouldBe true // p99 800 µs < 1 ms
    }

    test("the report writes the Markdown table and both charts next to it") {
        val dir = Files.createTempDirectory("report-spec")
        val json = dir.resolve("run.json").also { Files.writeString(it, "[$s1At5k,$b1At5k,$s2At5k,$lAt100]") }
        Report.main(arrayOf("--json", json.toString(), "--out", dir.resolve("run.md").toString(), "--mode", "smoke"))
        Files.readString(dir.resolve("run.md")) shouldContain "| S1 / B1 at 5k prefill | ≥ 30× | 50.0× | pass |"
        (Files.size(dir.resolve("run-depth.png")) > 0) shouldBe true
        Files.exists(dir.resolve("run-concurrency.png")) shouldBe true
    }
})
