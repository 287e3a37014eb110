#!/usr/bin/env bash
# Benchmark: native functions against the plain SQL a user would write (and
# tdigest for percentiles), on the same generated data in one run.  Prints a
# Markdown table of medians and ratios.  Not part of the test suite.
#   bash test/bench/run_bench.sh [VERIFICATION_ROWS] [API_ROWS]
# Defaults: 10,000,000 verification rows and 2,000,000 API calls over 120 days.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
vrows="${1:-10000000}"
arows="${2:-2000000}"
runs="${BENCH_RUNS:-3}"

source test/bench/bench_setup.sh
bench_start 54331 nz_bench 'max_parallel_workers_per_gather = 2'
psql -qX -d postgres -c "CREATE DATABASE nz_bench" >/dev/null
export PGDATABASE=nz_bench
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

q -c "CREATE EXTENSION nezuko_analytics" -c "CREATE EXTENSION tdigest" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null
# Load without secondary indexes, then build them (much faster than maintaining them row by row).
q -c "CREATE TABLE nz_indexes AS SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'" \
  -c "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT * FROM nz_indexes LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP; END\$\$"
anchor="$(q -c "SELECT date_trunc('day', now())")"
echo "generating $vrows verifications and $arows API calls (anchor $anchor) ..." >&2
start=$SECONDS
q -v vrows="$vrows" -v arows="$arows" -v groups=2000 -v anchor="'$anchor'" -f test/data/generate_sample.sql >/dev/null
q -c "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT * FROM nz_indexes LOOP EXECUTE r.indexdef; END LOOP; END\$\$" -c "VACUUM ANALYZE"
echo "loaded in $((SECONDS - start)) s" >&2
q -f test/bench/bench_harness.sql -f test/reference/charts_reference.sql -f test/reference/contracts_reference.sql >/dev/null

w7="'$anchor'::timestamptz - interval '7 days', '$anchor'::timestamptz"
w90="'$anchor'::timestamptz - interval '90 days', '$anchor'::timestamptz"
where7="\"timestamp\" >= '$anchor'::timestamptz - interval '7 days' AND \"timestamp\" < '$anchor'::timestamptz"
where90="\"timestamp\" >= '$anchor'::timestamptz - interval '90 days' AND \"timestamp\" < '$anchor'::timestamptz"

time_ms() { q -c "SELECT round(nz_bench.median_ms(\$q\$$1\$q\$, $runs)::numeric, 1)"; }
row() {  # row NAME NATIVE_SQL BASELINE_SQL [BASELINE_NAME]
    local n b
    n="$(time_ms "$2")"; b="$(time_ms "$3")"
    printf '| %s | %s | %s | %s | %sx |\n' "$1" "${4:-plain SQL}" "$n" "$b" "$(q -c "SELECT round($b / nullif($n, 0), 2)")"
}

{
echo "Data: $vrows verification_log rows, $arows api_call_log rows, 120 days, 2,000 groups; $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(q -c 'SHOW server_version'), shared_buffers 4GB, max_parallel_workers_per_gather 2, jit off; median of $runs runs after a warm-up."
echo
for w in 7 90; do
    win="w$w"; wh="where$w"
    echo "**${w}-day window** ($(q -c "SELECT count(*) FROM verification_log WHERE ${!wh}") verification rows)"
    echo
    echo "| function | baseline | native ms | baseline ms | baseline / native |"
    echo "|---|---|---:|---:|---:|"
    row "latency_percentiles() p50/p95/p99" "SELECT nezuko_analytics.latency_percentiles(${!win})" \
        "SELECT percentile_cont(ARRAY[0.5,0.95,0.99]) WITHIN GROUP (ORDER BY latency_ms) FROM verification_log WHERE ${!wh}" "percentile_cont"
    row "latency_percentiles() p50/p95/p99" "SELECT nezuko_analytics.latency_percentiles(${!win})" \
        "SELECT tdigest_percentile(latency_ms, 100, ARRAY[0.5,0.95,0.99]) FROM verification_log WHERE ${!wh}" "tdigest (approximate)"
    row "percentiles(latency_dist()) in a plain query" "SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), '{0.5,0.95,0.99}') FROM verification_log WHERE ${!wh}" \
        "SELECT percentile_cont(ARRAY[0.5,0.95,0.99]) WITHIN GROUP (ORDER BY latency_ms) FROM verification_log WHERE ${!wh}" "percentile_cont"
    for fn in latency_histogram verification_distribution cache_breakdown top_groups method_distribution bot_health; do
        row "$fn" "SELECT * FROM nezuko_analytics.$fn(${!win})" "SELECT * FROM nz_reference.$fn(${!win})"
    done
    row "hourly_activity (Asia/Kolkata)" "SELECT * FROM nezuko_analytics.hourly_activity(${!win}, 'Asia/Kolkata')" \
        "SELECT * FROM nz_reference.hourly_activity(${!win}, 'Asia/Kolkata')"
    echo "| floor: \`count(*), sum(latency_ms)\` | | $(time_ms "SELECT count(*), sum(latency_ms) FROM verification_log WHERE ${!wh}") | | |"
    echo
done
echo "**The whole dashboard in one pass** (\`dashboard()\`: one scan of each table) against the separate plain-SQL chart queries and the 14 reference \`get_*\` implementations, summed."
echo
echo "| window | dashboard() ms | plain-SQL charts, summed ms | 14 get_* references, summed ms | floor ms | charts / dashboard | dashboard / floor |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for w in 7 90; do
    win="w$w"; wh="where$w"
    dash="$(time_ms "SELECT nezuko_analytics.dashboard(${!win}, 'UTC')")"
    charts=0
    for c in "verification_distribution(${!win})" "cache_breakdown(${!win})" "hourly_activity(${!win}, 'UTC')" \
             "latency_histogram(${!win})" "latency_percentiles(${!win})" "top_groups(${!win})" \
             "method_distribution(${!win})" "bot_health(${!win})" "daily_trend(${!win})"; do
        charts="$(q -c "SELECT $charts + $(time_ms "SELECT * FROM nz_reference.$c")")"
    done
    p="${w}d"
    contracts=0
    for c in "get_dashboard_stats()" "get_verification_distribution()" "get_cache_breakdown()" "get_api_calls_distribution()" \
             "get_hourly_activity()" "get_latency_distribution('$p')" "get_top_groups()" "get_latency_trend('$p')" \
             "get_cache_hit_rate_trend('$p')" "get_verification_trends('$p')" "get_members_chart_data()" \
             "get_analytics_overview('$p')" "get_groups_status()" "get_bot_health()"; do
        contracts="$(q -c "SELECT $contracts + $(time_ms "SELECT nz_contracts.$c")")"
    done
    floor="$(time_ms "SELECT count(*), sum(latency_ms) FROM verification_log WHERE ${!wh}")"
    printf '| %s days | %s | %s | %s | %s | %sx | %sx |\n' "$w" "$dash" "$charts" "$contracts" "$floor" \
        "$(q -c "SELECT round($charts / $dash, 2)")" "$(q -c "SELECT round($dash / $floor, 2)")"
done
echo
echo "**Each contract** (\`nezuko_analytics.get_*\` against the reference written like the original PL/pgSQL; periods 7d, or 90d where the contract takes one). A contract whose reference takes under 2 ms is timed over 1,000 calls in one statement and reported per call, both sides alike, so that per-statement overhead does not hide the difference."
echo
echo "| contract | native ms | reference ms | reference / native |"
echo "|---|---:|---:|---:|"
per_call_ms() {  # per_call_ms CALL LOOPS
    if (( $2 == 1 )); then time_ms "SELECT $1"; else
        q -c "SELECT round((nz_bench.median_ms(\$q\$SELECT count(($1)::text) FROM generate_series(1, $2)\$q\$, $runs) / $2)::numeric, 3)"; fi
}
for c in "get_dashboard_stats()" "get_verification_distribution()" "get_cache_breakdown()" "get_api_calls_distribution()" \
         "get_hourly_activity()" "get_latency_distribution('90d')" "get_top_groups()" "get_latency_trend('90d')" \
         "get_cache_hit_rate_trend('90d')" "get_verification_trends('90d')" "get_members_chart_data()" \
         "get_analytics_overview('90d')" "get_groups_status()" "get_bot_health()"; do
    loops=1
    [[ "$(q -c "SELECT $(time_ms "SELECT nz_contracts.$c") < 2")" == t ]] && loops=1000
    n="$(per_call_ms "nezuko_analytics.$c" $loops)"; r="$(per_call_ms "nz_contracts.$c" $loops)"
    printf '| %s | %s | %s | %sx |\n' "$c" "$n" "$r" "$(q -c "SELECT round($r / nullif($n, 0), 2)")"
done
echo
echo "**Memory, 90-day window.** percentile_cont keeps every value and sorts them: $(q -c "SELECT coalesce(nz_bench.temp_blocks_written(\$q\$SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FROM verification_log WHERE $where90\$q\$), 0) * 8 / 1024") MiB spilled to disk past work_mem ($(q -c 'SHOW work_mem')). latency_dist keeps one count per distinct value: $(q -c "SELECT nezuko_analytics.count(d) || ' values in ' || pg_column_size(d) || ' bytes (' || (SELECT count(DISTINCT latency_ms) FROM verification_log WHERE $where90) || ' distinct)' FROM (SELECT nezuko_analytics.latency_dist(latency_ms) d FROM verification_log WHERE $where90) s"), no spill. tdigest's p95 differs from the exact value by $(q -c "SELECT round(abs(t - e)::numeric, 2) || ' ms (exact ' || e || ')' FROM (SELECT tdigest_percentile(latency_ms, 100, 0.95) t, percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) e FROM verification_log WHERE $where90) s")."
}
