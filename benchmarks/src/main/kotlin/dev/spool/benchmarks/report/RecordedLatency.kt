package dev.spool.benchmarks.report

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.double
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive

/**
 * One per-event latency summary written by a benchmark's `LatencyRecorder` at the end of a trial.
 *
 * @property method the benchmark method's simple name.
 * @property params the trial's JMH parameters, to match the [JmhResult].
 * @property p50Micros median latency in microseconds.
 * @property p99Micros 99th percentile latency in microseconds.
 * @property what what one sample is (`one claim call`), or null in files written before it was recorded.
 */
public class RecordedLatency(
    public val method: String,
    public val params: Map<String, String>,
    public val p50Micros: Double,
    public val p99Micros: Double,
    public val what: String? = null,
) {
    /** Parses the latency file. */
    public companion object {
        /** Reads every non-blank line of a latency file (one JSON object per line). */
        public fun parseAll(text: String): List<RecordedLatency> = text.lineSequence().filter { it.isNotBlank() }.map { line ->
            val row = Json.parseToJsonElement(line).jsonObject
            RecordedLatency(
                method = row.getValue("method").jsonPrimitive.content,
                params = row.getValue("params").jsonObject.mapValues { it.value.jsonPrimitive.content },
                p50Micros = row.getValue("p50us").jsonPrimitive.double,
                p99Micros = row.getValue("p99us").jsonPrimitive.double,
                what = row["what"]?.jsonPrimitive?.content,
            )
        }.toList()
    }
}
