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

# load_sample_database DB VROWS AROWS: DB with the bot's tables (made by the
# extension's apply_schema(), which then leaves: DROP EXTENSION keeps them)
# and the generated rows, loaded without secondary indexes and indexed after
# (much faster than maintaining them row by row); sets $anchor.
load_sample_database() {
    local db="$1" vrows="$2" arows="$3"
    local qq=(psql -qXAt -v ON_ERROR_STOP=1 -d "$db")
    psql -qX -d postgres -c "CREATE DATABASE $db" >/dev/null
    "${qq[@]}" -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null 2>&1
    "${qq[@]}" -c "CREATE TABLE nz_indexes AS SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'" \
        -c "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT * FROM nz_indexes LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP; END\$\$"
    anchor="$("${qq[@]}" -c "SELECT date_trunc('day', now())")"
    echo "generating $vrows verifications and $arows API calls (anchor $anchor) ..." >&2
    "${qq[@]}" -v vrows="$vrows" -v arows="$arows" -v groups=2000 -v anchor="'$anchor'" -f test/data/generate_sample.sql >/dev/null
    "${qq[@]}" -c "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT * FROM nz_indexes LOOP EXECUTE r.indexdef; END LOOP; END\$\$" \
        -c "DROP TABLE nz_indexes" -c "DROP EXTENSION nezuko_analytics" -c "VACUUM ANALYZE"
}
