#!/usr/bin/env bash
# The main job in one command: installs what is missing, builds and installs
# the extension, starts a throwaway PostgreSQL 15 with pg_cron, creates the
# extension, applies the schema, loads sample data and prints the dashboard.
#   bash scripts/demo.sh            (server stopped and removed at the end)
#   bash scripts/demo.sh --keep     (server left running; prints how to connect)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
keep=no
[[ "${1:-}" == "--keep" ]] && keep=yes

bash scripts/install-deps.sh
source scripts/lib/pg_server.sh
echo "== building and installing nezuko_analytics"
make -s -j"$(nproc)" >/dev/null
if [[ "$(id -u)" == 0 ]]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi

dir="$(pg_make_dir)"
if [[ $keep == no ]]; then
    trap 'pg_server_stop "$dir"; rm -rf "$dir"' EXIT
fi
echo "== starting a throwaway server in $dir (pg_cron preloaded)"
pg_server_start "$dir" 54330 nezuko_demo
psql -qX -d postgres -c "CREATE DATABASE nezuko_demo" >/dev/null
export PGDATABASE=nezuko_demo

echo "== CREATE EXTENSION pg_cron, nezuko_analytics; SELECT * FROM nezuko_analytics.apply_schema();"
psql -qX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION nezuko_analytics" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -c "SELECT * FROM nezuko_analytics.apply_schema()"

echo "== loading sample data (20,000 verifications, 4,000 API calls over 120 days)"
psql -qX -v ON_ERROR_STOP=1 -f test/data/generate_sample.sql >/dev/null

echo "== the dashboard"
psql -qX -v ON_ERROR_STOP=1 -f scripts/demo_dashboard.sql

if [[ $keep == yes ]]; then
    echo "== server left running:  psql -h $dir -p 54330 -U postgres nezuko_demo"
    echo "   stop it with:         PGDATA=$dir/data pg_ctl stop   (as $PG_OS_USER)"
fi
