#!/usr/bin/env bash
# Runs the pg_regress suite (sql/*.sql against expected/*.out) on a temporary
# instance with pg_cron preloaded.  The extension must be installed already.
# Prints "regress: N passed, N failed" last; exit status 0 only when all pass.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/scripts/lib/pg_server.sh"

stage="$(pg_make_dir)"
trap 'rm -rf "$stage"' EXIT
# pg_regress runs as the server's user: give it a copy it can read and write.
cp -r "$here/sql" "$here/expected" "$here/test/regress_schedule" "$stage/"
mkdir -p "$stage/test" && cp -r "$here/test/data" "$here/test/reference" "$here/test/lib" "$stage/test/"
mkdir -p "$stage/out"
cat >"$stage/temp.conf" <<CONF
shared_preload_libraries = 'pg_cron'
cron.database_name = 'contrib_regression'
max_worker_processes = 16
# extension_upgrade installs every version along every path in one transaction
max_locks_per_transaction = 256
cron.use_background_workers = on
# dashboard_contracts reads auto_explain's EXPLAIN ANALYZE plans back from the JSON log
logging_collector = on
log_destination = 'stderr,jsonlog'
CONF
[[ "$(id -u)" == 0 ]] && chown -R "$PG_OS_USER" "$stage"

pg_regress="$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress"
tests=($(sed -n 's/^test: *//p' "$here/test/regress_schedule"))
(cd "$stage" && as_pg "$pg_regress" --temp-instance="$stage/tmp_check" --temp-config="$stage/temp.conf" \
    --bindir="$PG_BINDIR" --inputdir="$stage" --outputdir="$stage/out" \
    --dbname=contrib_regression "$@" "${tests[@]}") >"$stage/pg_regress.log" 2>&1
status=$?
cat "$stage/pg_regress.log"
failed=$(grep -cE '^(not ok|test .* \.\.\. FAILED|     [a-z_]+ +\.\.\. FAILED)' "$stage/pg_regress.log")
passed=$(grep -cE '(\.\.\. ok|^ok )' "$stage/pg_regress.log")
if [[ $status -ne 0 ]]; then
    [[ -f "$stage/out/regression.diffs" ]] && { cp "$stage/out/regression.diffs" "$here/regression.diffs"; head -200 "$stage/out/regression.diffs"; }
    mkdir -p "$here/results" && cp "$stage"/out/results/*.out "$here/results/" 2>/dev/null
    (( failed == 0 )) && failed=1
fi
echo "regress: $passed passed, $failed failed"
exit $status
