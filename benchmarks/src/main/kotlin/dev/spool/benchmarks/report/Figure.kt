package dev.spool.benchmarks.report

/**
 * One measured figure in events (or calls) per second, normalised from a [JmhResult].
 *
 * Throughput-mode results are already per second (JMH divides by `@OperationsPerInvocation`).
 * SampleTime results (S1) are converted: one event over the mean time per invocation, and keep
 * JMH's percentiles. S2's percentiles come from the benchmark's own per-event recording.
 *
 * @property name the figure's name in the issue (B1, S2, L@100, ...).
 * @property description what one operation is.
 * @property depth prefill depth, or null when not a parameter.
 * @property durability Spool's durability name, or null when not a parameter.
 * @property callers concurrent callers for S2, 1 for S1, else null.
 * @property perSecond events or calls per second.
 * @property errorPerSecond the confidence half-width of [perSecond], or NaN.
 * @property p50Micros median latency in microseconds (SampleTime results, or recorded by the benchmark).
 * @property p99Micros 99th percentile latency in microseconds.
 * @property params every JMH parameter of the result, by name, so each figure is labelled with them.
 * @property latencyOf what one latency sample is (one `queueEvent`, one claim call, ...), or null.
 */
public class Figure(
    public val name: String,
    public val description: String,
    public val depth: Int?,
    public val durability: String?,
    public val callers: Int?,
    public val perSecond: Double,
    public val errorPerSecond: Double,
    public val p50Micros: Double?,
    public val p99Micros: Double?,
    public val params: Map<String, String> = emptyMap(),
    public val latencyOf: String? = null,
) {
    /** The parameters not shown in their own column (depth, durability, callers), as `k=v` text. */
    public val otherParams: String
        get() = params.filterKeys { it !in setOf("depth", "durability", "callers") }.entries.joinToString(", ") { "${it.key}=${it.value}" }

    /** Figures built from JMH results. */
    public companion object {
        private val names = mapOf(
            "b1CountPerEvent" to ("B1" to "new connection, COUNT(*), INSERT, commit, close (rollback journal)"),
            "b2CachedCount" to ("B2" to "as B1 with a cached count"),
            "l1PerTransaction" to ("L@1" to "one connection, WAL, reused statement, 1 insert/tx"),
            "l100PerTransaction" to ("L@100" to "as L, 100 inserts/tx"),
            "l1000PerTransaction" to ("L@1000" to "as L, 1,000 inserts/tx"),
            "s1QueueEvent" to ("S1" to "one caller awaiting each queueEvent"),
            "s2ConcurrentQueueEvent" to ("S2" to "concurrent coroutines calling queueEvent"),
            "s3BlockingQueueEvent8Threads" to ("S3" to "blocking Java facade from 8 threads"),
            "s4Append" to ("S4" to "append (strict cap), one caller"),
            "s5Peek100" to ("S5 peek" to "peek(100), calls/s"),
            "s5Stats" to ("S5 stats" to "stats(), calls/s"),
            "s5StatsAfterWrite" to ("S5 stats after a write" to "queueEvent then stats(), calls/s"),
            "s6CycleMarkSyncedPerAck" to ("S6 per-ack" to "sync cycle, immediate markSynced per ack"),
            "s6CycleMarkSyncedPerBatch" to ("S6 per-batch" to "sync cycle, one markSynced per batch"),
            "s6CycleFlusher" to ("S6 flusher" to "sync cycle, SyncedRowFlusher.markSynced per ack"),
            "exposedDslInsert" to ("Insert: Exposed DSL" to "Exposed insert {}, 100 rows/tx"),
            "reusedPreparedStatementInsert" to ("Insert: PreparedStatement" to "reused PreparedStatement, 100 rows/tx"),
            "taskClaimAndComplete" to ("T1 Spool" to "TaskQueue claim + complete, one caller, claimBatch tasks per claim"),
            "jdbcTaskClaimAndComplete" to ("T1 JDBC" to "plain JDBC: one transaction per claim (SELECT + UPDATE) and one per ack"),
            "taskEnqueue" to ("T2 Spool" to "TaskQueue enqueue, one caller awaiting each"),
            "jdbcTaskEnqueue" to ("T2 JDBC" to "plain JDBC: one autocommit INSERT per task"),
            "taskPollEmpty" to ("T3 Spool" to "TaskQueue claim finding nothing eligible (idle worker's poll), calls/s"),
        )

        /** P1 and P2 figures are named after their store and API parameter. */
        private val peers = mapOf(
            "TAPE" to "Tape",
            "SPOOL_BLOCKING" to "Spool blocking facade",
            "SPOOL_SUSPEND" to "Spool suspend (runBlocking)",
            "SPOOL_SUSPEND_ON_DEFAULT" to "Spool suspend on Dispatchers.Default",
            "SPOOL" to "Spool markSynced per batch",
            "SPOOL_FLUSHER" to "Spool + SyncedRowFlusher",
        )

        private fun nameOf(result: JmhResult): Pair<String, String> = when (result.method) {
            "p1LoneAdd" -> {
                val caller = result.params["caller"].orEmpty()
                "P1 ${peers[caller] ?: caller}" to
                    if (caller == "TAPE") "QueueFile.add, one caller (always fsyncs)" else "queueEvent, one caller awaiting each"
            }
            "p2DrainCycle" -> {
                val backend = result.params["backend"].orEmpty()
                "P2 ${peers[backend] ?: backend}" to
                    if (backend == "TAPE") "drain 5,000: iterate 100, remove(100), until empty" else "drain 5,000: peek(100), acknowledge the batch, until empty"
            }
            "qClaimAndComplete" -> "Q1 ${systemName(result)}" to
                "claim + complete: `workers` threads, each claiming `batch` tasks per claim and completing them"
            "qEnqueue" -> "Q2 ${systemName(result)}" to "enqueue: `workers` threads, one task at a time, each awaiting its commit"
            else -> names[result.method] ?: (result.method to result.method)
        }

        /** The task systems of Q1 and Q2 (issue #11), by their `system` parameter. */
        private val systems = mapOf(
            "POSTGRES" to "PostgreSQL TaskQueue",
            "JDBC_SKIP_LOCKED" to "JDBC SKIP LOCKED",
            "SQLITE" to "SQLite TaskQueue",
        )

        /** The order Q figures of one batch and worker count are listed and charted in. */
        public val systemOrder: List<String> = systems.values.toList()

        private fun systemName(result: JmhResult): String {
            val system = result.params["system"].orEmpty()
            return systems[system] ?: system
        }

        /**
         * The figure for [result]; [latencies] are per-event latency summaries recorded by the
         * benchmarks themselves, used when one matches this result's method and parameters.
         */
        public fun of(result: JmhResult, latencies: List<RecordedLatency> = emptyList()): Figure {
            val recorded = latencies.lastOrNull { it.method == result.method && it.params == result.params }
            val (name, description) = nameOf(result)
            val callers = result.intParam("callers") ?: if (result.method == "s1QueueEvent") 1 else null
            val perSecond: Double
            val error: Double
            if (result.mode == "sample") {
                val perOp = microsPer(result.unit)
                val meanMicros = result.score * perOp
                perSecond = 1_000_000.0 / meanMicros
                // First-order propagation of the mean's error to its reciprocal.
                error = perSecond * (result.error * perOp / meanMicros)
            } else {
                val scale = perSecondScale(result.unit)
                perSecond = result.score * scale
                error = result.error * scale
            }
            fun percentile(p: Double) = result.percentiles[p]?.let { it * microsPer(result.unit) }
            return Figure(
                name = name,
                description = description,
                depth = result.intParam("depth"),
                durability = result.params["durability"],
                callers = callers,
                perSecond = perSecond,
                errorPerSecond = error,
                p50Micros = recorded?.p50Micros ?: if (result.mode == "sample") percentile(50.0) else null,
                p99Micros = recorded?.p99Micros ?: if (result.mode == "sample") percentile(99.0) else null,
                params = result.params,
                latencyOf = recorded?.what ?: if (result.mode == "sample") "one call (JMH SampleTime)" else null,
            )
        }

        private fun microsPer(unit: String): Double = when (unit.substringBefore('/')) {
            "ns" -> 0.001
            "us" -> 1.0
            "ms" -> 1_000.0
            "s" -> 1_000_000.0
            else -> error("Unexpected time unit $unit")
        }

        private fun perSecondScale(unit: String): Double = when (unit.substringAfter('/')) {
            "s" -> 1.0
            "ms" -> 1_000.0
            "us" -> 1_000_000.0
            "ns" -> 1_000_000_000.0
            else -> error("Unexpected rate unit $unit")
        }
    }
}
