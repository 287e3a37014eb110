#!/usr/bin/env bash
# Benchmark of the portable edition (nezuko_analytics_sql, through pg_tle)
# side by side with the native edition and with the reference contracts
# written like the bot's original PL/pgSQL, on the same rows in one run: two
# copies of one loaded database on one server, one per edition.  Prints
# Markdown tables of medians and ratios.  Not part of the test suite.
#   bash test/bench/run_portable_bench.sh [VERIFICATION_ROWS] [API_ROWS]
# Defaults: 10,000,000 verification rows and 2,000,000 API calls over 120 days;
# BENCH_PARALLEL_WORKERS (2) is the server's max_parallel_workers_per_gather
# (0: every side in one process, as the reference's SELECT INTOs always are).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
vrows="${1:-10000000}"
arows="${2:-2000000}"
runs="${BENCH_RUNS:-3}"
workers="${BENCH_PARALLEL_WORKERS:-2}"

source test/bench/bench_setup.sh
bash scripts/install-pgtle.sh
make -s portable >/dev/null
bench_start 54333 postgres "max_parallel_workers_per_gather = $workers" "shared_preload_libraries = 'pg_cron,pg_tle'"
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

# One loaded database, copied once per edition (DROP EXTENSION keeps the rows).
load_sample_database nz_data "$vrows" "$arows"
for db in nz_native nz_portable; do
    psql -qX -d postgres -c "CREATE DATABASE $db TEMPLATE nz_data" >/dev/null
    q -d "$db" -f test/bench/bench_harness.sql -f test/reference/charts_reference.sql -f test/reference/contracts_reference.sql >/dev/null
done
psql -qX -d postgres -c "DROP DATABASE nz_data" >/dev/null
q -d nz_native -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null 2>&1
q -d nz_portable -c "CREATE EXTENSION pg_tle" >/dev/null
q -d nz_portable -f build/portable/install_pgtle.sql >/dev/null
q -d nz_portable -c "CREATE EXTENSION nezuko_analytics_sql" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null 2>&1
for db in nz_native nz_portable; do q -d "$db" -c "VACUUM ANALYZE" >/dev/null; done

time_ms() { q -d "$1" -c "SELECT round(nz_bench.median_ms(\$q\$$2\$q\$, $runs)::numeric, 1)"; }
ratio() { q -d postgres -c "SELECT round($1::numeric / nullif($2::numeric, 0), 2)"; }  # numeric: two integers would divide as integers
per_call_ms() {  # per_call_ms DB CALL LOOPS
    if (( $3 == 1 )); then time_ms "$1" "SELECT $2"; else
        q -d "$1" -c "SELECT round((nz_bench.median_ms(\$q\$SELECT count(($2)::text) FROM generate_series(1, $3)\$q\$, $runs) / $3)::numeric, 3)"; fi
}
w7="'$anchor'::timestamptz - interval '7 days', '$anchor'::timestamptz"
w90="'$anchor'::timestamptz - interval '90 days', '$anchor'::timestamptz"
where90="\"timestamp\" >= '$anchor'::timestamptz - interval '90 days' AND \"timestamp\" < '$anchor'::timestamptz"

echo "Data: $vrows verification_log rows, $arows api_call_log rows, 120 days, 2,000 groups; $(nproc) cores; PostgreSQL $(q -d nz_native -c 'SHOW server_version'), shared_buffers 4GB, max_parallel_workers_per_gather $workers, jit off; pg_tle $(q -d nz_portable -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_tle'"); median of $runs runs after a warm-up where not timed in turn. The native edition and the portable one each in a copy of the same database."
echo
echo "**Each contract**: the portable edition against the reference written like the bot's original PL/pgSQL (in the same database), and the native edition. Periods 7d, or 90d where the contract takes one. The portable one and the reference are timed in turn, one call each per round for 5 rounds (median of each); a contract whose reference takes under 2 ms over 200 calls in one statement per round for 15 rounds, reported per call."
echo
echo "| contract | portable ms | reference ms | native ms | reference / portable | portable / native |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "get_dashboard_stats()" "get_verification_distribution()" "get_cache_breakdown()" "get_api_calls_distribution()" \
         "get_hourly_activity()" "get_latency_distribution('90d')" "get_top_groups()" "get_latency_trend('90d')" \
         "get_cache_hit_rate_trend('90d')" "get_verification_trends('90d')" "get_members_chart_data()" \
         "get_analytics_overview('90d')" "get_groups_status()" "get_bot_health()" "get_user_growth('90d')"; do
    # the portable one and the reference in turn (nz_bench.per_call_in_turn):
    # a short call 200 times a round for 15 rounds, a longer one once a round
    # for 5 rounds
    loops=1 rounds=5 digits=1
    [[ "$(q -d postgres -c "SELECT $(time_ms nz_portable "SELECT nz_contracts.$c") < 2")" == t ]] && loops=200 rounds=15 digits=3
    IFS='|' read -r p r < <(q -d nz_portable -c "SELECT round(a_ms::numeric, $digits), round(b_ms::numeric, $digits)
                                                 FROM nz_bench.per_call_in_turn(\$c\$nezuko_analytics.$c\$c\$, \$c\$nz_contracts.$c\$c\$, $loops, $rounds)")
    n="$(per_call_ms nz_native "nezuko_analytics.$c" $loops)"
    printf '| %s | %s | %s | %s | %sx | %sx |\n' "$c" "$p" "$r" "$n" "$(ratio "$r" "$p")" "$(ratio "$p" "$n")"
done
echo
# The editions live in two databases, so their dashboards are timed in turn,
# one call each per round: a slow stretch of the machine (this one's speed
# drifts by a fifth within minutes) then falls on both, not on one edition's
# runs.  Each call is warmed up in its own session first (median_ms() of one
# run).  Medians of the rounds, and the spread of the rounds' own ratios.
turns="${BENCH_TURNS:-5}"
echo "**dashboard()** (one document of every chart) in each edition, and the floor: \`count(*), sum(latency_ms)\` over the same window. The two editions' calls in turn, one each per round (after a warm-up in the same session), $turns rounds: medians, and the lowest and highest ratio of one round."
echo
echo "| window | portable ms | native ms | floor ms | portable / native | rounds' ratios | portable / floor |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for w in 7 90; do
    win="w$w"
    call="SELECT nezuko_analytics.dashboard(${!win}, 'Asia/Kolkata')"
    ps=() ns=()
    for ((i = 0; i < turns; i++)); do
        ps+=("$(q -d nz_portable -c "SELECT nz_bench.median_ms(\$q\$$call\$q\$, 1)")")
        ns+=("$(q -d nz_native -c "SELECT nz_bench.median_ms(\$q\$$call\$q\$, 1)")")
    done
    IFS='|' read -r p n lo hi < <(q -d postgres -c "
        SELECT round(percentile_disc(0.5) WITHIN GROUP (ORDER BY p)::numeric, 1), round(percentile_disc(0.5) WITHIN GROUP (ORDER BY n)::numeric, 1),
               round(min(p / n)::numeric, 2), round(max(p / n)::numeric, 2)
        FROM unnest('{$(IFS=,; echo "${ps[*]}")}'::float8[], '{$(IFS=,; echo "${ns[*]}")}'::float8[]) r(p, n)")
    wh="\"timestamp\" >= '$anchor'::timestamptz - interval '$w days' AND \"timestamp\" < '$anchor'::timestamptz"
    f="$(time_ms nz_native "SELECT count(*), sum(latency_ms) FROM verification_log WHERE $wh")"
    printf '| %s days | %s | %s | %s | %sx | %sx to %sx | %sx |\n' "$w" "$p" "$n" "$f" "$(ratio "$p" "$n")" "$lo" "$hi" "$(ratio "$p" "$f")"
done
echo
echo "**Typed charts, 90 days**, portable against native."
echo
echo "| function | portable ms | native ms | portable / native |"
echo "|---|---:|---:|---:|"
for fn in "latency_percentiles($w90)" "latency_histogram($w90)" "hourly_activity($w90, 'Asia/Kolkata')" \
          "method_distribution($w90)" "cache_breakdown($w90)" "top_groups($w90)"; do
    p="$(time_ms nz_portable "SELECT * FROM nezuko_analytics.$fn")"
    n="$(time_ms nz_native "SELECT * FROM nezuko_analytics.$fn")"
    printf '| %s | %s | %s | %sx |\n' "${fn%%(*}" "$p" "$n" "$(ratio "$p" "$n")"
done
echo
echo "90-day rows: $(q -d nz_native -c "SELECT count(*) FROM verification_log WHERE $where90")."
