package dev.spool.benchmarks.report

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.double
import kotlinx.serialization.json.doubleOrNull
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive

/**
 * One row of JMH's `-rf json` output, reduced to what the report uses.
 *
 * @property method the benchmark method's simple name, such as `s1QueueEvent`.
 * @property mode JMH's short mode name: `thrpt` or `sample`.
 * @property params the JMH parameters of this run, by name.
 * @property score the primary score in [unit].
 * @property error the half-width of the 99.9% confidence interval, or NaN with too few samples.
 * @property unit JMH's unit, such as `ops/s` or `us/op`.
 * @property percentiles SampleTime percentiles by percent (50.0, 99.0, ...), in [unit].
 * @property jdk the forked JVM's version, as JMH recorded it.
 * @property vm the forked JVM's name.
 */
public class JmhResult(
    public val method: String,
    public val mode: String,
    public val params: Map<String, String>,
    public val score: Double,
    public val error: Double,
    public val unit: String,
    public val percentiles: Map<Double, Double>,
    public val jdk: String,
    public val vm: String,
) {
    /** A parameter as an Int, or null when this benchmark does not have it. */
    public fun intParam(name: String): Int? = params[name]?.toIntOrNull()

    /** Parses JMH's JSON results. */
    public companion object {
        /** Reads every result from the text of a `-rf json` file. */
        public fun parseAll(json: String): List<JmhResult> =
            Json.parseToJsonElement(json).jsonArray.map { parse(it.jsonObject) }

        private fun parse(row: JsonObject): JmhResult {
            val metric = row.getValue("primaryMetric").jsonObject
            val percentiles = metric["scorePercentiles"]?.jsonObject.orEmpty()
                .mapKeys { it.key.toDouble() }
                .mapValues { it.value.jsonPrimitive.double }
            return JmhResult(
                method = row.getValue("benchmark").jsonPrimitive.content.substringAfterLast('.'),
                mode = row.getValue("mode").jsonPrimitive.content,
                params = row["params"]?.jsonObject.orEmpty().mapValues { it.value.jsonPrimitive.content },
                score = metric.getValue("score").jsonPrimitive.double,
                error = metric["scoreError"]?.jsonPrimitive?.doubleOrNull ?: Double.NaN,
                unit = metric.getValue("scoreUnit").jsonPrimitive.content,
                percentiles = percentiles,
                jdk = row["jdkVersion"]?.jsonPrimitive?.content.orEmpty(),
                vm = row["vmName"]?.jsonPrimitive?.content.orEmpty(),
            )
        }
    }
}
