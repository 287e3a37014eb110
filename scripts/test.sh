#!/usr/bin/env bash
# The one test command: installs what is missing, builds the extension both
# ways (PGXS and CMake), installs it, and runs every suite against real
# servers.  Ends with one line "total: N passed, N failed"; exit status 0 only
# when every suite passed.   Usage: bash scripts/test.sh
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

bash scripts/install-deps.sh --tests || exit 1
source scripts/lib/pg_server.sh

total_passed=0
total_failed=0
summary=()

# record SUITE PASSED FAILED
record() {
    total_passed=$((total_passed + $2)); total_failed=$((total_failed + $3))
    summary+=("$1: $2 passed, $3 failed")
}
# run_suite SUITE CMD...  (the suite prints "SUITE: N passed, N failed" last)
run_suite() {
    local suite="$1"; shift
    local log; log="$(mktemp)"
    echo "=== $suite"
    "$@" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    local line; line="$(grep -E "^$suite: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)"
    rm -f "$log"
    if [[ -z "$line" ]]; then
        record "$suite" 0 1; return
    fi
    local p f
    p="$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")"
    f="$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")"
    (( status != 0 && f == 0 )) && f=1
    record "$suite" "$p" "$f"
}

# 1. Build both ways; install the PGXS build.
run_suite build bash test/build/run_build_tests.sh

# 2. Unit tests of the core (CTest + GoogleTest), from the CMake build.
unit_tests() {
    local out; out="$(ctest --test-dir build --output-on-failure 2>&1)"; local status=$?
    echo "$out" | tail -15
    local total failed
    total="$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/p' <<<"$out")"
    failed="$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/p' <<<"$out")"
    [[ -z "$total" ]] && { echo "unit: 0 passed, 1 failed"; return 1; }
    echo "unit: $((total - failed)) passed, $failed failed"
    return $status
}
run_suite unit unit_tests

# 3. pg_regress on its own temporary instance.
run_suite regress bash test/run_regress.sh

# 4. Suites that share one throwaway server with pg_cron preloaded.
server_dir="$(pg_make_dir)"
trap 'pg_server_stop "$server_dir"; rm -rf "$server_dir"' EXIT
if pg_server_start "$server_dir" 54329 nz_test; then
    psql -qX -d postgres -c "CREATE DATABASE nz_test" >/dev/null
    pgtap_tests() {
        psql -qX -d nz_test -c "CREATE EXTENSION IF NOT EXISTS pgtap" >/dev/null || return 1
        local out; out="$(pg_prove -d nz_test test/pgtap/*.sql 2>&1)"; local status=$?
        echo "$out"
        local tests failed
        tests="$(sed -nE 's/^Files=[0-9]+, Tests=([0-9]+),.*/\1/p' <<<"$out")"
        failed="$(grep -oE 'Tests: [0-9]+ Failed: [0-9]+' <<<"$out" | awk '{s += $4} END {print s + 0}')"
        [[ -z "$tests" ]] && { echo "pgtap: 0 passed, 1 failed"; return 1; }
        echo "pgtap: $((tests - failed)) passed, $failed failed"
        return $status
    }
    run_suite pgtap pgtap_tests
    run_suite parity bash test/parity/run_parity_tests.sh
    python_tests() {
        local out; out="$(cd python && /usr/bin/python3 -m pytest -q 2>&1)"; local status=$?
        echo "$out" | tail -25
        local passed failed
        passed="$(grep -oE '[0-9]+ passed' <<<"$out" | tail -1 | grep -oE '[0-9]+')"
        failed="$(grep -oE '[0-9]+ (failed|error)' <<<"$out" | awk '{s += $1} END {print s + 0}')"
        echo "python: ${passed:-0} passed, ${failed:-0} failed"
        return $status
    }
    run_suite python python_tests
    run_suite concurrency bash test/retention/run_concurrency_test.sh
    run_suite native_reads bash test/concurrency/run_native_reads_test.sh
    run_suite cron bash test/retention/run_cron_integration.sh
    run_suite rollups bash test/rollups/run_rollups_integration.sh
else
    record server 0 1
fi

# 5. SQLite fallback.
run_suite sqlite bash test/sqlite/run_sqlite_tests.sh

# 6. The portable edition through pg_tle, on a Supabase-like server of its own
#    (builds pg_tle from the vendored source when it is missing).
run_suite portable bash test/portable/run_portable_tests.sh

echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "total: $total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 && $total_passed -gt 0 ]]
