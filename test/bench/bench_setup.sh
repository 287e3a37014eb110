# Sourced by the benchmarks: installs what is missing, builds and installs the
# extension, and starts a throwaway server with production durability.
#   bench_start PORT CRON_DB [EXTRA postgresql.conf LINES...]   -> sets $dir
bash scripts/install-deps.sh --tests
source scripts/lib/pg_server.sh
make -s -j"$(nproc)" >/dev/null
if [[ "$(id -u)" == 0 ]]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi

bench_start() {
    local port="$1" cron_db="$2"
    shift 2
    dir="$(pg_make_dir)"
    trap 'pg_server_stop "$dir"; rm -rf "$dir"' EXIT
    pg_server_start "$dir" "$port" "$cron_db"
    {
        echo "# production durability (the test servers turn these off for speed)"
        echo "fsync = on"
        echo "synchronous_commit = on"
        echo "full_page_writes = on"
        echo "shared_buffers = 4GB"
        echo "jit = off"
        printf '%s\n' "$@"
    } >>"$dir/data/postgresql.conf"
    as_pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w restart >/dev/null
}
