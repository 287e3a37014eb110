#!/usr/bin/env bash
# Before and after, side by side in one run: every chart function, dashboard()
# and every get_* contract timed on the build of an earlier commit (BASE_REV),
# then, on the same server and the same data, on this checkout's build after
# ALTER EXTENSION ... UPDATE.  Prints each time under both and the ratio
# (after / before; above 1.05 is marked).  Not part of the test suite.
#   bash test/bench/run_version_bench.sh BASE_REV [VERIFICATION_ROWS] [API_ROWS]
# Defaults: 10,000,000 verification rows and 2,000,000 API calls over 120 days.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
base_rev="${1:?usage: run_version_bench.sh BASE_REV [VERIFICATION_ROWS] [API_ROWS]}"
vrows="${2:-10000000}"
arows="${3:-2000000}"
runs="${BENCH_RUNS:-5}"

base="$(mktemp -d "${TMPDIR:-/tmp}/nezuko_base.XXXXXX")"
git worktree add -q --detach "$base" "$base_rev"
cleanup_base() { git worktree remove --force "$base" >/dev/null 2>&1 || rm -rf "$base"; }
make -s -C "$base" -j"$(nproc)" >/dev/null 2>&1

source test/bench/bench_setup.sh          # builds and installs this checkout
make -s -C "$base" install >/dev/null     # ... then the base build over it
bench_start 54332 nz_vbench 'max_parallel_workers_per_gather = 2'
trap 'pg_server_stop "$dir"; rm -rf "$dir"; cleanup_base' EXIT
psql -qX -d postgres -c "CREATE DATABASE nz_vbench" >/dev/null
export PGDATABASE=nz_vbench
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

q -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null
before="$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics'")"
q -c "CREATE TABLE nz_indexes AS SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'" \
  -c "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT * FROM nz_indexes LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP; END\$\$"
anchor="$(q -c "SELECT date_trunc('day', now())")"
echo "generating $vrows verifications and $arows API calls (anchor $anchor) ..." >&2
q -v vrows="$vrows" -v arows="$arows" -v groups=2000 -v anchor="'$anchor'" -f test/data/generate_sample.sql >/dev/null
q -c "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT * FROM nz_indexes LOOP EXECUTE r.indexdef; END LOOP; END\$\$" -c "VACUUM ANALYZE"
q -f test/bench/bench_harness.sql >/dev/null

w7="'$anchor'::timestamptz - interval '7 days', '$anchor'::timestamptz"
w90="'$anchor'::timestamptz - interval '90 days', '$anchor'::timestamptz"
calls=()
for w in w7 w90; do
    for fn in latency_percentiles latency_histogram verification_distribution cache_breakdown top_groups \
              method_distribution bot_health; do
        calls+=("${w#w}d|SELECT * FROM nezuko_analytics.$fn(${!w})")
    done
    calls+=("${w#w}d|SELECT * FROM nezuko_analytics.hourly_activity(${!w}, 'Asia/Kolkata')")
    calls+=("${w#w}d|SELECT nezuko_analytics.dashboard(${!w}, 'Asia/Kolkata')")
done
# The fixed-window contracts take milliseconds: 20 calls in one statement each.
for c in "get_dashboard_stats()" "get_verification_distribution()" "get_cache_breakdown()" "get_api_calls_distribution()" \
         "get_hourly_activity()" "get_top_groups()" "get_members_chart_data()" "get_groups_status()" "get_bot_health()"; do
    calls+=("7d x20|SELECT count((nezuko_analytics.$c)::text) FROM generate_series(1, 20)")
done
for c in "get_latency_distribution('90d')" "get_latency_trend('90d')" "get_cache_hit_rate_trend('90d')" \
         "get_verification_trends('90d')" "get_analytics_overview('90d')"; do
    calls+=("90d|SELECT nezuko_analytics.$c")
done

# measure FILE: one line per call, its median in ms
measure() {
    for c in "${calls[@]}"; do
        q -c "SELECT round(nz_bench.median_ms(\$q\$${c#*|}\$q\$, $runs)::numeric, 2)"
    done >"$1"
}
measure "$dir/before"
make -s install >/dev/null 2>&1 || sudo make -s install >/dev/null
as_pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w restart >/dev/null
q -c "ALTER EXTENSION nezuko_analytics UPDATE"
after="$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics'")"
measure "$dir/after"

echo "Data: $vrows verification_log rows, $arows api_call_log rows, 120 days; $(nproc) cores; median of $runs runs after a warm-up, each version after a server restart. Before: $before ($base_rev), after: $after (this checkout). A window "x20" is 20 calls in one statement."
echo
echo "| call | window | $before ms | $after ms | $after / $before |"
echo "|---|---|---:|---:|---:|"
i=0
paste -d'|' "$dir/before" "$dir/after" | while IFS='|' read -r b a; do
    c="${calls[$i]}"
    name="$(sed -E 's/.*nezuko_analytics\.([a-z_]+)\(.*/\1/' <<<"${c#*|}")"
    ratio="$(q -c "SELECT round($a / nullif($b, 0), 2)")"
    mark=""
    [[ "$(q -c "SELECT $ratio > 1.05")" == t ]] && mark=" (slower)"
    printf '| %s | %s | %s | %s | %sx%s |\n' "$name" "${c%%|*}" "$b" "$a" "$ratio" "$mark"
    i=$((i + 1))
done
