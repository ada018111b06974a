#!/usr/bin/env bash
# Builds the benchmarks module, runs the JMH suite and writes the report.
#
#   benchmarks/run.sh [smoke|quick|full|pg|dashboard]   (default: quick)
#
# smoke  every benchmark once (28 trials, plus 12 of the PostgreSQL comparison at batch 32): depth
#        5,000, NORMAL, no warmup, one 1 s iteration. Proves the suite builds and runs (CI; needs
#        the PostgreSQL server); fails only if a benchmark throws, never on timing. About 2 min of
#        JMH, plus the build.
# quick  depth sweep (5,000 and 500,000) for B1, S1 and S2@64; everything else at 5,000;
#        NORMAL, except the Tape comparisons (P1, P2) at FULL; 1 warmup + 2 measured 1 s
#        iterations (32 trials). About 3 min of JMH on 2 cores, plus the build. For checking
#        changes, not for quoting.
# full   every parameter (depth 5k/50k/500k, NORMAL and FULL, 8/64/256 callers: 69 trials),
#        1 fork each, 2 x 1 s warmup + 5 x 2 s measured iterations. About 17 min of JMH on
#        2 cores (each trial ~12 s measured + ~2.5 s fork and setup), plus the build and, the
#        first time, ~15 s to build the 500k template and ~10 s for Tape's 5k template.
# pg     only the task-queue comparison of issue #11 (Q1 claim + complete, Q2 enqueue): Spool's
#        TaskQueue on PostgreSQL, a plain-JDBC SKIP LOCKED table on the same server and the SQLite
#        TaskQueue, 1 and 4 workers, 1 and 32 tasks per claim (18 trials), 1 warmup + 3 measured
#        2 s iterations. About 4 min of JMH on 2 cores, plus the build.
#
# Q1/Q2 need PostgreSQL at 127.0.0.1:5432 (user postgres, trust, database test); each trial
# creates and drops its own schema. Another server: SPOOL_BENCH_PG_URL (a JDBC URL) and
# SPOOL_BENCH_PG_USER.
#
# dashboard  not JMH: DashboardAtScale fills a 1,000,000-task SQLite TaskQueue and a
#        1,000,000-event OfflineQueue, serves them with spool-ktor's InspectionServer and times
#        every dashboard route over HTTP with OkHttp (median/p99 of 200 requests each). Writes
#        benchmarks/results/<date>-dashboard.md. About 2 min to fill the files, plus the build.
#        DASHBOARD_ARGS overrides its options (e.g. "--tasks 100000 --events 100000").
#
# Output: benchmarks/results/<date>-<mode>.json (JMH -rf json), .latency.jsonl (per-call
# latencies recorded by the benchmarks with HdrHistogram), .md (report) and its PNG charts (one
# per group of figures the run measured).
# A hand-written <date>-<mode>.notes.md beside them, if present, is copied into the report.
# Databases live in benchmarks/target/bench-data (same disk as the results); override with
# SPOOL_BENCH_DIR. Extra JMH options can be appended with JMH_EXTRA (e.g. "-prof jfr").
# SPOOL_BENCH_SKIP_BUILD=1 reuses an existing benchmarks/target/benchmarks.jar (say, right after
# mvn verify built it) instead of building first.
# Everything runs from the project root with project-relative paths, so the report and the
# command it records name no directory of this machine.
set -euo pipefail

mode="${1:-quick}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
results="benchmarks/results"
data="${SPOOL_BENCH_DIR:-benchmarks/target/bench-data}"
stamp="$(date -u +%Y-%m-%d)"
stem="$results/$stamp-$mode"
jar="benchmarks/target/benchmarks.jar"
mkdir -p "$results" "$data"

case "$mode" in
  smoke|quick|full|pg) ;;
  dashboard)
    echo "== Building benchmarks (mvn -B -o -pl benchmarks -am package -DskipTests)"
    mvn -B -o -q -pl benchmarks -am package -DskipTests
    # shellcheck disable=SC2086 # DASHBOARD_ARGS is a list of options
    java -Xms512m -Xmx2g -Dspool.bench.dir="$data" -cp "$jar" dev.spool.benchmarks.DashboardAtScale \
      --out "$stem.md" ${DASHBOARD_ARGS:-}
    exit 0
    ;;
  *) echo "usage: $0 [smoke|quick|full|pg|dashboard]" >&2; exit 2 ;;
esac

if [[ -n "${SPOOL_BENCH_SKIP_BUILD:-}" && -f "$jar" ]]; then
  echo "== Reusing $jar (SPOOL_BENCH_SKIP_BUILD is set)"
else
  echo "== Building benchmarks (mvn -B -o -pl benchmarks -am package -DskipTests)"
  mvn -B -o -q -pl benchmarks -am package -DskipTests
fi

latency="$stem.latency.jsonl"
rm -f "$latency"
pg_props="-Dspool.bench.pg.url=${SPOOL_BENCH_PG_URL:-jdbc:postgresql://127.0.0.1:5432/test} -Dspool.bench.pg.user=${SPOOL_BENCH_PG_USER:-postgres}"
common=(-f 1 -rf json -jvmArgsAppend "-Xms512m -Xmx2g -Dspool.bench.dir=$data -Dspool.bench.latencyOut=$latency $pg_props")
# Each entry is one JMH invocation; their JSON files are merged into $stem.json.
invocations=()
case "$mode" in
  smoke)
    # -foe: a benchmark that throws fails CI; timing never does.
    invocations+=("-p depth=5000 -p durability=NORMAL -p batch=32 -wi 0 -i 1 -r 1s -foe true")
    ;;
  quick)
    invocations+=("BaselineBenchmark.b1CountPerEvent|EnqueueBenchmark.s1QueueEvent|ConcurrentEnqueueBenchmark -p depth=5000,500000 -p durability=NORMAL -p callers=64 -wi 1 -w 1s -i 2 -r 1s")
    invocations+=("-e BaselineBenchmark.b1CountPerEvent|EnqueueBenchmark.s1QueueEvent|LoneCallerBenchmark|DrainCycleBenchmark -p depth=5000 -p durability=NORMAL -p callers=8,256 -wi 1 -w 1s -i 2 -r 1s")
    invocations+=("LoneCallerBenchmark|DrainCycleBenchmark|RawLimitBenchmark.l1PerTransaction -p depth=5000 -p durability=FULL -wi 1 -w 1s -i 2 -r 1s")
    ;;
  full)
    invocations+=("-wi 2 -w 1s -i 5 -r 2s")
    ;;
  pg)
    # -foe: a failing trial (say, PostgreSQL down) fails the run instead of leaving a gap.
    invocations+=("TaskComparison -wi 1 -w 2s -i 3 -r 2s -foe true")
    ;;
esac

parts=()
commands=()
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
start=$(date +%s)
i=0
for args in "${invocations[@]}"; do
  i=$((i + 1))
  part="$stem.part$i.json"
  # shellcheck disable=SC2206 # word splitting of the invocation's own options is intended
  split=($args)
  cmd=(java -jar "$jar" "${split[@]}" "${common[@]}" -rff "$part" ${JMH_EXTRA:-})
  echo "== JMH $i/${#invocations[@]}: ${cmd[*]}"
  "${cmd[@]}"
  parts+=("$part")
  commands+=("${cmd[*]}")
done
elapsed=$(( $(date +%s) - start ))
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

command_text="benchmarks/run.sh $mode
$(printf '%s\n' "${commands[@]}")"
java -cp "$jar" dev.spool.benchmarks.report.Report \
  --json "$stem.json" --parts "$(IFS=,; echo "${parts[*]}")" --latency "$latency" --out "$stem.md" \
  --mode "$mode" --command "$command_text" --data-dir "$data" --elapsed "$elapsed" \
  --load "$load_before / $load_after" --notes "$stem.notes.md"
rm -f "${parts[@]}"
echo "== Done in ${elapsed}s of JMH: $stem.md"
