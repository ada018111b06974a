package dev.spool.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.ByteArrayOutputStream
import java.io.PrintStream
import kotlin.time.Duration.Companion.milliseconds

class DemoSpec : FunSpec({
    test("a shortened demo tells its six steps and its proof holds") {
        val printed = ByteArrayOutputStream()
        val options = Demo.Options(events = 3_000, latency = 5.milliseconds, outage = 300.milliseconds, directory = tempDir())
        Demo.run(options, PrintStream(printed, true)) shouldBe true
        val story = printed.toString()
        for (step in 1..6) story shouldContain "[$step/6]"
        story shouldContain "server down"
        story shouldContain "PASS"
        story shouldContain "lost: 0"
    }
})
