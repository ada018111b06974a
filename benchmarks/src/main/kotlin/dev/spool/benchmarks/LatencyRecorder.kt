package dev.spool.benchmarks

import org.HdrHistogram.Histogram
import java.nio.file.Files
import java.nio.file.Paths
import java.nio.file.StandardOpenOption
import java.util.concurrent.TimeUnit

/**
 * Per-call latencies recorded by a benchmark itself, for figures whose JMH invocation holds many
 * calls (S2, the task queue), where JMH's own sampling would time the whole invocation instead.
 *
 * Durations go into an HdrHistogram (3 significant digits, up to one minute) during measurement
 * iterations only. At the end of a trial [summarize] appends p50, p99, p99.9 and the maximum as
 * one JSON line to the file named by the system property `spool.bench.latencyOut` (run.sh sets
 * it), which the report reads beside JMH's JSON, so the percentiles land in the report. Not
 * thread-safe: record from one thread (S2's coroutines all run on the benchmark thread's
 * `runBlocking` loop, as do the task benchmarks').
 */
public class LatencyRecorder {
    private val histogram = Histogram(TimeUnit.MINUTES.toNanos(1), 3)

    /** Whether [record] keeps samples: true during measurement iterations. */
    public var recording: Boolean = false

    /** Records one duration in nanoseconds, if [recording]; longer than a minute counts as one. */
    public fun record(nanos: Long) {
        if (recording) histogram.recordValue(nanos.coerceIn(0, histogram.highestTrackableValue))
    }

    /** Adds what [other] recorded (say, one recorder per worker thread, merged at the end of a trial). */
    public fun add(other: LatencyRecorder) {
        histogram.add(other.histogram)
    }

    /** Runs [block] and records how long it took. */
    public inline fun <T> time(block: () -> T): T {
        val start = System.nanoTime()
        val result = block()
        record(System.nanoTime() - start)
        return result
    }

    /**
     * Appends the percentiles (microseconds) of what was recorded to the latency file, as the
     * figure [method] with [params] measuring [what], and starts afresh. Does nothing without
     * samples or without the file.
     */
    public fun summarize(method: String, params: Map<String, String>, what: String) {
        val out = System.getProperty("spool.bench.latencyOut")
        if (out == null || histogram.totalCount == 0L) {
            histogram.reset()
            return
        }
        fun micros(percentile: Double) = histogram.getValueAtPercentile(percentile) / 1000.0
        val paramsJson = params.entries.joinToString(",") { (k, v) -> "\"$k\":\"$v\"" }
        val line = "{\"method\":\"$method\",\"params\":{$paramsJson},\"what\":\"$what\",\"count\":${histogram.totalCount}," +
            "\"p50us\":${micros(50.0)},\"p99us\":${micros(99.0)},\"p999us\":${micros(99.9)}," +
            "\"maxus\":${histogram.maxValue / 1000.0},\"recorder\":\"HdrHistogram 2.2.2\"}\n"
        Files.writeString(Paths.get(out), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
        histogram.reset()
    }
}
