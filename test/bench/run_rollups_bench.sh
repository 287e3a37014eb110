#!/usr/bin/env bash
# Benchmark of the rollups (docs/rollups.md), side by side in one run on one
# loaded database: the readers with nezuko_analytics.use_rollups on and off,
# the build against one sequential scan of the table, a refresh after a
# minute of traffic, the rollups' storage, and the bot's single-row INSERTs
# with and without the invalidation triggers (pgbench, 2 clients).  Prints
# Markdown tables of medians and ratios.  Not part of the test suite.
#   bash test/bench/run_rollups_bench.sh [VERIFICATION_ROWS] [API_ROWS]
# Defaults: 10,000,000 verification rows and 2,000,000 API calls over 120
# days; BENCH_RUNS (3) timed runs after a warm-up, BENCH_PGBENCH_SECONDS (60).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
vrows="${1:-10000000}"
arows="${2:-2000000}"
runs="${BENCH_RUNS:-3}"
seconds="${BENCH_PGBENCH_SECONDS:-60}"

source test/bench/bench_setup.sh
bench_start 54335 postgres 'max_parallel_workers_per_gather = 2'
q() { psql -qXAt -v ON_ERROR_STOP=1 -d nz_rollups "$@"; }
work="$(mktemp -d)"
chmod 755 "$work"
[[ "$(id -u)" == 0 ]] && chown "$PG_OS_USER" "$work"
trap 'pg_server_stop "$dir"; rm -rf "$dir" "$work"' EXIT

load_sample_database nz_rollups "$vrows" "$arows"
q -f test/bench/bench_harness.sql >/dev/null
q -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null 2>&1
q -c "VACUUM ANALYZE" >/dev/null

time_ms() { q -c "SELECT round(nz_bench.median_ms(\$q\$$1\$q\$, $runs)::numeric, 1)"; }
ratio() { q -c "SELECT round($1::numeric / nullif($2::numeric, 0), 1)"; }  # numeric: two integers would divide as integers
median_of() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "Data: $vrows verification_log rows, $arows api_call_log rows, 120 days, 2,000 groups; $(nproc) cores; PostgreSQL $(q -c 'SHOW server_version'), shared_buffers 4GB, max_parallel_workers_per_gather 2, jit off; median of $runs runs after a warm-up."
echo

# The build, against one sequential scan of the table (serial and parallel).
# A scan repeated in one session is the fastest it gets; the build always
# starts in a new session, whose process (and each parallel worker) maps
# the pages of shared_buffers it touches for the first time: on a virtual
# machine that costs as much as the scan itself.  So both are measured: the
# median of repeated scans in one session, and of scans each in a new
# session, timed inside it.
serial_scan="$(q -c "SET max_parallel_workers_per_gather = 0" -c "SELECT round(nz_bench.median_ms('SELECT count(*), sum(latency_ms) FROM verification_log', $runs)::numeric, 1)" | tail -1)"
parallel_scan="$(time_ms "SELECT count(*), sum(latency_ms) FROM verification_log")"
new_session_ms() {  # new_session_ms WORKERS: the median of $runs scans, each in a new session
    local times=() i
    for i in $(seq 1 "$runs"); do
        times+=("$(q -c "SET max_parallel_workers_per_gather = $1" -c "BEGIN" -c "SELECT count(*), sum(latency_ms) FROM verification_log" \
                     -c "SELECT round(extract(epoch FROM clock_timestamp() - now()) * 1000)" -c "COMMIT" | tail -1)")
    done
    median_of "${times[@]}"
}
serial_new="$(new_session_ms 0)"
parallel_new="$(new_session_ms 2)"
# The quarter hours of verification_log alone, written and rolled back
# (rollup_materialize() over every quarter hour of its rows).
span="$(q -c "SELECT format('%L, %L', nezuko_analytics.time_floor(min(\"timestamp\"), interval '15 minutes'),
                                  nezuko_analytics.time_floor(max(\"timestamp\"), interval '15 minutes') + interval '15 minutes')
              FROM verification_log")"
t0="$(date +%s%N)"
q -c "BEGIN" -c "SELECT nezuko_analytics.rollup_materialize('verification_log', $span)" -c "ROLLBACK" >/dev/null
vqh_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# The build three times, each into empty rollup tables (the rows of the
# one before deleted by disable_rollups() and their space given back, not
# timed): the median, and the peak resident memory of the build's backend
# (VmHWM: its own memory and the pages of shared_buffers it touched; its
# parallel workers are processes of their own).  The third stays enabled.
builds=(); peaks=()
for r in 1 2 3; do
    q -c "SET client_min_messages = warning" -c "SELECT count(*) FROM nezuko_analytics.disable_rollups()" \
      -c "VACUUM FULL nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_api_calls, nezuko_analytics.rollup_days" >/dev/null
    t0="$(date +%s%N)"
    peak="$(q <<'SQL' | tail -1
SET client_min_messages = warning;
SELECT count(*) FROM nezuko_analytics.enable_rollups(time_zones => ARRAY['Asia/Kolkata', current_setting('TimeZone')]) \g /dev/null
SELECT pg_backend_pid() AS pid \gset
\setenv NZ_BUILD_PID :pid
\! awk '/VmHWM/ {print $2}' /proc/$NZ_BUILD_PID/status
SQL
)"
    builds+=($(( ($(date +%s%N) - t0) / 1000000 )))
    peaks+=("$(( ${peak:-0} / 1024 ))")
done
build_ms="$(median_of "${builds[@]}")"
echo "**Build** (enable_rollups(): both tables, triggers, 120 days of quarter hours, and the local days of UTC, Asia/Kolkata and the session's zone, which is UTC's when it is one of UTC's names) against one scan of verification_log (\`count(*), sum(latency_ms)\`), and the quarter hours of verification_log alone (\`rollup_materialize()\` over all its rows, written and rolled back). The scans: the median of $runs repeated in one session (its process has mapped shared_buffers already), and of $runs each in a new session (as the build runs: its process and workers map the pages they touch first)."
echo
echo "| what | ms | serial scan ms, one session | / it | serial scan ms, new sessions | / it | parallel scan ms, one session / new sessions |"
echo "|---|---:|---:|---:|---:|---:|---:|"
echo "| enable_rollups(), median of three | $build_ms | $serial_scan | $(ratio "$build_ms" "$serial_scan")x | $serial_new | $(ratio "$build_ms" "$serial_new")x | $parallel_scan / $parallel_new |"
echo "| verification_log's quarter hours | $vqh_ms | $serial_scan | $(ratio "$vqh_ms" "$serial_scan")x | $serial_new | $(ratio "$vqh_ms" "$serial_new")x | $parallel_scan / $parallel_new |"
echo
echo "The three builds: ${builds[*]} ms; the peak resident memory of the build's backend: ${peaks[*]} MB."
echo

# the readers are timed as a dashboard sees them minutes later: after
# autovacuum has been over the freshly written rollup tables
q -c "VACUUM ANALYZE" >/dev/null

echo "**Storage** (rollup_status())."
echo
echo "| table | quarter-hour rows | MB | local days | MB |"
echo "|---|---:|---:|---:|---:|"
q -F ' | ' -c "SELECT '| ' || source, rollup_rows, round(rollup_bytes / 1048576.0, 1), local_days, round(local_day_bytes / 1048576.0, 1) || ' |' FROM nezuko_analytics.rollup_status()"
echo

anchor="$(q -c "SELECT date_trunc('day', now())")"
w7="'$anchor'::timestamptz - interval '7 days', '$anchor'::timestamptz"
w90="'$anchor'::timestamptz - interval '90 days', '$anchor'::timestamptz"
echo "**Readers**, use_rollups on and off (windows end at midnight UTC; the contracts end now)."
echo
echo "| call | rollups ms | raw ms | raw / rollups |"
echo "|---|---:|---:|---:|"
for call in "nezuko_analytics.dashboard($w90, 'Asia/Kolkata')" "nezuko_analytics.dashboard($w7, 'Asia/Kolkata')" \
            "nezuko_analytics.dashboard($w90, 'UTC')" "nezuko_analytics.dashboard(now() - interval '7 days', now(), 'UTC')" \
            "nezuko_analytics.get_latency_trend('90d')" "nezuko_analytics.get_analytics_overview('90d')" \
            "nezuko_analytics.get_verification_trends('90d')" "nezuko_analytics.get_dashboard_stats()" \
            "nezuko_analytics.get_top_groups()" "nezuko_analytics.get_hourly_activity()"; do
    on="$(time_ms "SELECT $call")"
    off="$(q -c "SET nezuko_analytics.use_rollups = off" -c "SELECT round(nz_bench.median_ms(\$q\$SELECT $call\$q\$, $runs)::numeric, 1)" | tail -1)"
    printf '| `%s` | %s | %s | %sx |\n' "${call//nezuko_analytics./}" "$on" "$off" "$(ratio "$off" "$on")"
done
echo

# A minute of traffic: 300 current verifications (5 of them up to an hour
# late) and 200 API calls, then one refresh, in a new session as pg_cron
# runs it (its plans and caches made afresh); eleven times (a new session's
# cost varies by several milliseconds on a virtual machine: three gave
# medians 6 ms apart between two runs of one commit), the median and each.
# Then one row 3 days late (its quarter hour and its whole group day are
# computed again).
q -c "SELECT nezuko_analytics.refresh_rollups()" >/dev/null
refreshes=()
for r in $(seq 1 11); do
    q -c "INSERT INTO verification_log (user_id, group_id, status, latency_ms, \"timestamp\")
          SELECT g, g % 2000, 'verified', 40 + g % 200,
                 now() - CASE WHEN g <= 5 THEN g * interval '10 minutes' ELSE g * interval '200 milliseconds' END
          FROM generate_series(1, 300) g" \
      -c "INSERT INTO api_call_log (method, success, latency_ms, \"timestamp\")
          SELECT 'getChatMember', true, 30 + g % 50, now() - g * interval '300 milliseconds' FROM generate_series(1, 200) g" >/dev/null
    refreshes+=("$(q -c "SELECT nezuko_analytics.refresh_rollups()" -c "SELECT round(max(last_refresh_ms)::numeric, 1) FROM nezuko_analytics.rollup_status()" | tail -1)")
done
refresh="$(median_of "${refreshes[@]}")"
q -c "INSERT INTO verification_log (user_id, group_id, status, latency_ms, \"timestamp\") VALUES (1, 1, 'error', 90, now() - interval '3 days')" >/dev/null
late="$(q -c "SELECT nezuko_analytics.refresh_rollups()" -c "SELECT round(max(last_refresh_ms)::numeric, 1) FROM nezuko_analytics.rollup_status()" | tail -1)"
echo "**Refresh** after a minute of traffic (300 verifications, 5 of them up to an hour late, and 200 API calls), each in a new session as pg_cron runs it: median $refresh ms of eleven (${refreshes[*]} ms; $(printf '%s\n' "${refreshes[@]}" | awk '$1 < 20' | wc -l) of them under 20 ms). After one row 3 days late: $late ms (its quarter hour is read again, and its local days made again)."
echo

# The bot's single-row INSERT, with the invalidation triggers and without.
cat >"$work/insert.sql" <<'SQL'
\set user_id random(1, 1000000)
INSERT INTO verification_log (user_id, group_id, status, latency_ms, "timestamp") VALUES (:user_id, :user_id % 2000, 'verified', 42, now());
SQL
# Rounds that alternate without and with the triggers (the disk's fsync time
# drifts by 20 % from one minute to the next on a shared machine, so one run
# of each would measure the drift); each mode gets BENCH_PGBENCH_SECONDS in all.
# The order inside a round alternates too (without first in odd rounds, with
# first in even ones): the throughput falls round after round as the table
# and its indexes grow, and a mode that always ran second lost by it (1.22's
# first run: 5,458, 4,949, 4,358, 3,836, 3,860, 3,612 tps in the order run).
rounds=4
round_seconds=$(( seconds / rounds > 5 ? seconds / rounds : 5 ))
pgbench_round() {  # pgbench_round MODE ROUND -> tps; keeps the latency log as $work/lat.MODE.ROUND
    rm -f "$work"/pgbench_log.*
    local tps
    tps="$(cd "$work" && as_pg pgbench -n -c 2 -j 2 -T "$round_seconds" -l -f insert.sql -h "$PGHOST" -p "$PGPORT" -U postgres nz_rollups 2>/dev/null \
           | sed -nE 's/^tps = ([0-9.]+).*/\1/p')"
    cat "$work"/pgbench_log.* | awk '{print $3}' >"$work/lat.$1.$2"
    echo "$tps"
}
off_round() {  # off_round ROUND -> tps: a round with the insert trigger disabled
    q -c "ALTER TABLE verification_log DISABLE TRIGGER nezuko_analytics_rollups_insert" >/dev/null
    pgbench_round off "$1"
    q -c "ALTER TABLE verification_log ENABLE TRIGGER nezuko_analytics_rollups_insert" >/dev/null
}
p99_of() { cat "$work"/lat."$1".* | sort -n | awk '{a[NR] = $1} END {print a[int(NR * 0.99)] / 1000}'; }
tps_off=(); tps_on=(); ratios=()
for r in $(seq 1 "$rounds"); do
    # as the pg_cron job does every minute: the pending marks of the last round go
    q -c "SELECT nezuko_analytics.refresh_rollups()" >/dev/null
    if (( r % 2 == 1 )); then
        off="$(off_round "$r")"; on="$(pgbench_round on "$r")"
    else
        on="$(pgbench_round on "$r")"; off="$(off_round "$r")"
    fi
    tps_off+=("$off"); tps_on+=("$on")
    ratios+=("$(q -c "SELECT round(100 * $on / nullif($off, 0), 1)")")
done
sum_of() { local IFS=+; q -c "SELECT $*"; }
echo "**The bot's INSERTs** (pgbench, 2 clients, production durability; $rounds rounds of ${round_seconds} s each way, without the triggers first in odd rounds and with them first in even ones)."
echo
echo "| triggers | tps per round | median tps | p99 ms (all rounds) |"
echo "|---|---|---:|---:|"
echo "| without | ${tps_off[*]} | $(median_of "${tps_off[@]}") | $(p99_of off) |"
echo "| with | ${tps_on[*]} | $(median_of "${tps_on[@]}") | $(p99_of on) |"
echo
echo "With the triggers, per round: ${ratios[*]} % of the throughput without; median $(median_of "${ratios[@]}") %; all rounds together $(q -c "SELECT round(100 * ($(sum_of "${tps_on[@]}")) / nullif($(sum_of "${tps_off[@]}"), 0), 1)") %."
