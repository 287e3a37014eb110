# Sourced by the shell suites that need a database of their own on the
# running test server:
#   scratch_db PREFIX  -- creates database PREFIX_<pid> with the extension and
#                         the spec's schema applied; sets $db and $work (a
#                         temporary directory the server's user can read),
#                         defines q (psql on $db), and drops both at exit.
scratch_db() {
    db="$1_$$"
    work="$(mktemp -d)"
    chmod 755 "$work"
    trap 'rm -rf "$work"; psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT
    psql -qX -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
    q -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null 2>&1
}
q() { psql -qXAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }
