# Sourced by the shell test suites: numbered checks, TAP-style lines, and a
# closing "SUITE: N passed, N failed" line.
CHECKS_PASSED=0
CHECKS_FAILED=0

pass() { CHECKS_PASSED=$((CHECKS_PASSED + 1)); echo "ok $((CHECKS_PASSED + CHECKS_FAILED)) - $1"; }
fail() { CHECKS_FAILED=$((CHECKS_FAILED + 1)); echo "not ok $((CHECKS_PASSED + CHECKS_FAILED)) - $1"; [[ -n "${2:-}" ]] && printf '#   %s\n' "$2"; }

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
    if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi
}
# check_match DESCRIPTION REGEX ACTUAL
check_match() {
    if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match [$2], got [$3]"; fi
}

checks_summary() {
    echo "$1: $CHECKS_PASSED passed, $CHECKS_FAILED failed"
    [[ $CHECKS_FAILED -eq 0 && $CHECKS_PASSED -gt 0 ]]
}
