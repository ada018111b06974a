package dev.spool.benchmarks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

/**
 * The task-queue comparison (Q1, Q2) does the work it claims on every system: these run the
 * benchmark methods once, outside JMH, against the real PostgreSQL server and a real SQLite file,
 * and count the tasks afterwards. No timing is asserted.
 */
class TaskComparisonSpec : FunSpec({
    for (system in TaskSystem.Kind.entries) {
        for ((batch, workers) in listOf(32 to 4, 1 to 1)) {
            test("$system: one Q1 invocation with $workers worker(s), $batch per claim, completes exactly its tasks and leaves the backlog queued") {
                val bench = TaskComparisonBenchmark()
                bench.system = system.name
                bench.batch = batch
                bench.workers = workers
                bench.setUp()
                try {
                    bench.underTest.queued() shouldBe TaskComparisonBenchmark.BACKLOG
                    bench.refill()
                    bench.qClaimAndComplete()
                    bench.underTest.completed() shouldBe TaskComparisonBenchmark.OPS
                    bench.underTest.queued() shouldBe TaskComparisonBenchmark.BACKLOG
                } finally {
                    bench.tearDown()
                }
            }
        }

        test("$system: one Q2 invocation from 4 workers enqueues exactly its tasks, all claimable") {
            val bench = TaskComparisonEnqueueBenchmark()
            bench.system = system.name
            bench.workers = 4
            bench.setUp()
            try {
                bench.qEnqueue()
                bench.underTest.queued() shouldBe TaskComparisonEnqueueBenchmark.OPS
                bench.underTest.completed() shouldBe 0
            } finally {
                bench.tearDown()
            }
        }
    }

    test("the JDBC baseline completes only the jobs its worker holds") {
        val pool = PostgresBench.pool("spec")
        val schema = PostgresBench.newSchema("bench_spec")
        try {
            val jobs = SkipLockedJobs(pool, schema).also { it.create() }
            jobs.enqueueMany(3, "t", { """{"n":$it}""" }, { 0 })
            val mine = jobs.claim("a", 2)
            val theirs = jobs.claim("b", 2)
            mine.size shouldBe 2
            theirs.size shouldBe 1 // SKIP LOCKED and the state: a's jobs are never claimed again
            jobs.complete("b", mine) shouldBe 0
            jobs.complete("a", mine) shouldBe 2
            jobs.count(SkipLockedJobs.DONE) shouldBe 2
            jobs.count(SkipLockedJobs.RUNNING) shouldBe 1
        } finally {
            PostgresBench.dropSchema(pool, schema)
            pool.close()
        }
    }
})
