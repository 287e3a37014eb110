#!/usr/bin/env bash
# Before and after, side by side in one run: every chart function, dashboard()
# and every get_* contract timed on the build of an earlier commit (BASE_REV)
# and on this checkout's build, on the same server and the same data.
# The earlier build is installed beside the current one as the extension
# nezuko_analytics_base (its own module file and script); two databases,
# copies of one loaded database, each hold one of them.  Each call is timed
# in one database, then in the other, then again in both, and each side
# keeps the lower of its two medians, so whatever the machine does in
# between weighs on both alike.  The default size lets both copies stay in
# shared_buffers (4 GB): at 10M rows they evict each other and the ratios
# move by +-15% for code that did not change.  Prints both times and the
# ratio (after / before; above 1.05 is marked).  Not part of the test suite.
#   bash test/bench/run_version_bench.sh BASE_REV [VERIFICATION_ROWS] [API_ROWS]
# Defaults: 3,000,000 verification rows and 600,000 API calls over 120 days.
# BENCH_MEASURE=instructions counts CPU instructions instead (valgrind's
# callgrind, each call in a single-user backend, serial plans, minus the same
# backend's count for a call that only loads the module): the same on every
# run, so a 5 % difference is visible.  Use it with a small data set
# (300,000 rows: a 90-day call is then a few seconds under valgrind).
# BENCH_CALLS=REGEX keeps only the calls whose SQL matches REGEX (grep -E).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
base_rev="${1:?usage: run_version_bench.sh BASE_REV [VERIFICATION_ROWS] [API_ROWS]}"
vrows="${2:-3000000}"
arows="${3:-600000}"
runs="${BENCH_RUNS:-5}"

base="$(mktemp -d "${TMPDIR:-/tmp}/nezuko_base.XXXXXX")"
git worktree add -q --detach "$base" "$base_rev"
make -s -C "$base" -j"$(nproc)" >/dev/null 2>&1
base_version="$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$base/nezuko_analytics.control")"

source test/bench/bench_setup.sh          # builds and installs this checkout
extdir="$(pg_config --sharedir)/extension"
libdir="$(pg_config --pkglibdir)"
install -m 644 "$base/nezuko_analytics.so" "$libdir/nezuko_analytics_base.so"
install -m 644 "$base/nezuko_analytics--$base_version.sql" "$extdir/nezuko_analytics_base--$base_version.sql"
sed -e "s|^module_pathname.*|module_pathname = '\$libdir/nezuko_analytics_base'|" \
    -e "s|^comment.*|comment = 'nezuko_analytics as built at $base_rev (benchmark only)'|" \
    "$base/nezuko_analytics.control" >"$extdir/nezuko_analytics_base.control"
uninstall_base() {
    rm -f "$libdir/nezuko_analytics_base.so" "$extdir/nezuko_analytics_base--$base_version.sql" "$extdir/nezuko_analytics_base.control"
    git worktree remove --force "$base" >/dev/null 2>&1 || rm -rf "$base"
}
bench_start 54332 postgres 'max_parallel_workers_per_gather = 2'
trap 'pg_server_stop "$dir"; rm -rf "$dir"; uninstall_base' EXIT
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

# One database with the bot's tables and rows, copied twice.
load_sample_database nz_data "$vrows" "$arows"
for db in nz_before nz_after; do
    psql -qX -d postgres -c "CREATE DATABASE $db TEMPLATE nz_data" >/dev/null
    q -d "$db" -f test/bench/bench_harness.sql >/dev/null
done
q -d nz_before -c "CREATE EXTENSION nezuko_analytics_base" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null
q -d nz_after -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null
psql -qX -d postgres -c "DROP DATABASE nz_data" >/dev/null
before="$(q -d nz_before -c "SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics_base'")"
after="$(q -d nz_after -c "SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics'")"

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

if [[ -n "${BENCH_CALLS:-}" ]]; then
    kept=()
    for c in "${calls[@]}"; do grep -qE -- "$BENCH_CALLS" <<<"$c" && kept+=("$c"); done
    calls=("${kept[@]}")
fi

median() { q -d "$1" -c "SELECT round(nz_bench.median_ms(\$q\$$2\$q\$, $runs)::numeric, 2)"; }
# instructions DB SQL: callgrind's count for SQL in a single-user backend.
instructions() {
    local out="$dir/callgrind.out"
    rm -f "$out"
    printf '%s\n' "$2" | as_pg valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$PG_BINDIR/postgres" --single -D "$dir/data" -c shared_preload_libraries= \
        -c max_parallel_workers_per_gather=0 -c jit=off "$1" >/dev/null 2>&1
    sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -1
}
lower() { q -d nz_after -c "SELECT least($1, $2)"; }
if [[ "${BENCH_MEASURE:-time}" == instructions ]]; then
    version="$(q -d nz_after -c 'SHOW server_version')"
    pg_server_stop "$dir"
    base_b="$(instructions nz_before "SELECT nezuko_analytics.version();")"
    base_a="$(instructions nz_after "SELECT nezuko_analytics.version();")"
    echo "Data: $vrows verification_log rows, $arows api_call_log rows, 120 days; PostgreSQL $version; CPU instructions (callgrind) of each call in a single-user backend with serial plans, less the backend's count for SELECT nezuko_analytics.version() ($base_b on $before, $base_a on $after); $before is $base_rev, $after this checkout. A window \"x20\" is 20 calls in one statement."
    echo
    echo "| call | window | $before instructions | $after instructions | $after / $before |"
    echo "|---|---|---:|---:|---:|"
    for c in "${calls[@]}"; do
        sql="${c#*|}"
        b=$(( $(instructions nz_before "$sql;") - base_b ))
        a=$(( $(instructions nz_after "$sql;") - base_a ))
        ratio="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
        mark=""
        awk -v r="$ratio" 'BEGIN { exit !(r > 1.05) }' && mark=" (slower)"
        printf '| %s | %s | %s | %s | %sx%s |\n' "$(sed -E 's/.*nezuko_analytics\.([a-z_]+)\(.*/\1/' <<<"$sql")" "${c%%|*}" "$b" "$a" "$ratio" "$mark"
    done
    exit 0
fi
echo "Data: $vrows verification_log rows, $arows api_call_log rows, 120 days; $(nproc) cores; PostgreSQL $(q -d nz_after -c 'SHOW server_version'); the lower of two medians of $runs runs after a warm-up, timed alternately on $before ($base_rev) and on $after (this checkout), in two copies of one database on one server. A window \"x20\" is 20 calls in one statement."
echo
echo "| call | window | $before ms | $after ms | $after / $before |"
echo "|---|---|---:|---:|---:|"
for c in "${calls[@]}"; do
    sql="${c#*|}"
    b1="$(median nz_before "$sql")"; a1="$(median nz_after "$sql")"
    b2="$(median nz_before "$sql")"; a2="$(median nz_after "$sql")"
    b="$(lower "$b1" "$b2")"; a="$(lower "$a1" "$a2")"
    ratio="$(q -d nz_after -c "SELECT round($a / nullif($b, 0), 2)")"
    mark=""
    [[ "$(q -d nz_after -c "SELECT $ratio > 1.05")" == t ]] && mark=" (slower)"
    printf '| %s | %s | %s | %s | %sx%s |\n' "$(sed -E 's/.*nezuko_analytics\.([a-z_]+)\(.*/\1/' <<<"$sql")" "${c%%|*}" "$b" "$a" "$ratio" "$mark"
done
