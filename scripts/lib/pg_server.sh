# Sourced by the demo and test scripts: a throwaway PostgreSQL 15 server with
# pg_cron preloaded, run as an unprivileged user (initdb refuses root).
#
#   pg_server_start DIR PORT CRON_DB   -- initdb in DIR, start on a socket in DIR
#   pg_server_stop DIR
#   as_pg CMD...                       -- run CMD as the server's owner

PG_BINDIR="$(pg_config --bindir)"
export PATH="$PG_BINDIR:$PATH"

if [[ "$(id -u)" == 0 ]]; then
    PG_OS_USER="${PG_OS_USER:-postgres}"
    as_pg() { runuser -u "$PG_OS_USER" -- env PATH="$PATH" "$@"; }
else
    PG_OS_USER="$(id -un)"
    as_pg() { "$@"; }
fi

# A directory the server's user owns (root's own temp files may be unreadable to it).
pg_make_dir() {
    local d
    d="$(mktemp -d "${TMPDIR:-/tmp}/nezuko_analytics.XXXXXX")"
    chmod 755 "$d"
    [[ "$(id -u)" == 0 ]] && chown "$PG_OS_USER" "$d"
    echo "$d"
}

pg_server_start() {
    local dir="$1" port="$2" cron_db="$3"
    as_pg initdb -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
shared_preload_libraries = 'pg_cron'
cron.database_name = '$cron_db'
fsync = off
synchronous_commit = off
full_page_writes = off
max_worker_processes = 16
cron.use_background_workers = on
CONF
    as_pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
    export PGHOST="$dir" PGPORT="$port" PGUSER=postgres
}

pg_server_stop() {
    local dir="$1"
    [[ -f "$dir/data/postmaster.pid" ]] && as_pg pg_ctl -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
