package dev.spool.benchmarks

import java.nio.file.Files
import java.nio.file.Paths
import java.nio.file.StandardOpenOption

/**
 * Per-event latencies recorded by a benchmark itself, for figures whose JMH invocation holds many
 * events (S2), where JMH's own sampling would time the invocation instead.
 *
 * It keeps raw nanosecond durations (no histogram) of measurement iterations only, up to
 * [capacity]; [summarize] sorts them. At the end of a trial the summary is appended as one JSON
 * line to the file named by the system property `spool.bench.latencyOut` (run.sh sets it), which
 * the report reads beside JMH's JSON. Not thread-safe: record from one thread (S2's coroutines all
 * run on the benchmark thread's `runBlocking` loop).
 */
public class LatencyRecorder(private val capacity: Int = 4_000_000) {
    private val samples = LongArray(capacity)
    private var size = 0

    /** Whether [record] keeps samples: true during measurement iterations. */
    public var recording: Boolean = false

    /** Records one duration in nanoseconds, if [recording] and not full. */
    public fun record(nanos: Long) {
        if (recording && size < capacity) samples[size++] = nanos
    }

    /**
     * Sorts what was recorded and appends its p50, p99 and p99.9 (microseconds) to the latency
     * file, as the figure [method] with [params]. Does nothing without samples or without the file.
     */
    public fun summarize(method: String, params: Map<String, String>) {
        val out = System.getProperty("spool.bench.latencyOut") ?: return
        if (size == 0) return
        val sorted = samples.copyOf(size).also { it.sort() }
        fun percentile(p: Double) = sorted[((p / 100.0) * (size - 1)).toInt()] / 1000.0
        val paramsJson = params.entries.joinToString(",") { (k, v) -> "\"$k\":\"$v\"" }
        val line = "{\"method\":\"$method\",\"params\":{$paramsJson},\"count\":$size," +
            "\"p50us\":${percentile(50.0)},\"p99us\":${percentile(99.0)},\"p999us\":${percentile(99.9)}}\n"
        Files.writeString(Paths.get(out), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
        size = 0
    }
}
