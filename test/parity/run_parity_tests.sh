#!/usr/bin/env bash
# Parity between the two back ends: every table's columns (name, type, NOT NULL,
# default) and indexes as apply_schema() makes them on PostgreSQL
# (information_schema, pg_index) and as sql/sqlite/nezuko_analytics.sql makes
# them on SQLite (pragma table_info, index_list).  Then it proves it can fail:
# with a column removed from either side it must report a difference.
# Needs a running server (PGHOST/PGPORT) where nezuko_analytics is installed.
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/test/lib/checks.sh"
work="$(mktemp -d)"
db="nz_parity_$$"
trap 'rm -rf "$work"; psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT

psql_at() { psql -qXAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# One normalized line per column and per index, in a form both back ends share:
#   table|column|TYPE|not_null|default      (serial/autoincrement keys are ROWID)
#   index|table|name|col,col
pg_shape() {
    psql_at -v schema="$1" <<'SQL'
WITH pk AS (
    SELECT k.table_name, k.column_name FROM information_schema.table_constraints t
    JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
    WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = :'schema')
SELECT c.table_name || '|' || c.column_name || '|' ||
       CASE WHEN pk.column_name IS NOT NULL AND c.column_default LIKE 'nextval(%' THEN 'ROWID'
            WHEN c.data_type = 'character varying' THEN 'VARCHAR(' || c.character_maximum_length || ')'
            WHEN c.data_type = 'timestamp with time zone' THEN 'DATETIME'
            WHEN c.data_type = 'jsonb' THEN 'JSON'
            ELSE upper(c.data_type) END || '|' ||
       (c.is_nullable = 'NO' OR pk.column_name IS NOT NULL)::int || '|' ||
       CASE WHEN c.column_default LIKE 'nextval(%' THEN ''
            WHEN c.column_default = 'now()' THEN 'CURRENT_TIMESTAMP'
            WHEN c.column_default = 'true' THEN '1'
            WHEN c.column_default = 'false' THEN '0'
            ELSE coalesce(c.column_default, '') END
FROM information_schema.columns c LEFT JOIN pk USING (table_name, column_name)
WHERE c.table_schema = :'schema'
UNION ALL
SELECT 'index|' || t.relname || '|' || i.relname || '|' ||
       (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
        FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = :'schema')
  AND NOT x.indisprimary AND NOT x.indisunique
ORDER BY 1;
SQL
}

sqlite_shape() {
    sqlite3 -bail "$1" <<'SQL'
SELECT line FROM (
    SELECT m.name || '|' || p.name || '|' ||
           CASE WHEN p.pk = 1 AND upper(p.type) = 'INTEGER' THEN 'ROWID' ELSE upper(p.type) END || '|' ||
           (p."notnull" OR p.pk > 0) || '|' || coalesce(p.dflt_value, '') AS line
    FROM sqlite_schema m, pragma_table_info(m.name) p
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
    UNION ALL
    SELECT 'index|' || m.name || '|' || l.name || '|' ||
           (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))
    FROM sqlite_schema m, pragma_index_list(m.name) l
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND l.origin = 'c' AND NOT l."unique"
) ORDER BY 1;
SQL
}

# compare NAME PG_SCHEMA SQLITE_SCRIPT -> prints the differences, status 0 when none
compare() {
    local sqlite_db="$work/$1.db"
    sqlite3 -bail "$sqlite_db" < "$3" >/dev/null 2>&1 || { echo "sqlite script failed"; return 2; }
    pg_shape "$2" > "$work/$1.pg" || return 2
    sqlite_shape "$sqlite_db" > "$work/$1.sqlite" || return 2
    diff "$work/$1.pg" "$work/$1.sqlite"
}

psql -qX -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null || exit 1
psql_at <<'SQL' >/dev/null || exit 1
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA parity;
SELECT nezuko_analytics.apply_schema('parity');
CREATE SCHEMA parity_mutant;
SELECT nezuko_analytics.apply_schema('parity_mutant');
ALTER TABLE parity_mutant.verification_log DROP COLUMN error_type;
SQL

out="$(compare same parity "$here/sql/sqlite/nezuko_analytics.sql")"; rc=$?
check_eq "PostgreSQL and SQLite have the same columns, types, defaults and indexes" "0:" "$rc:$out"
check_match "the comparison saw every table" "^5$" "$(cut -d'|' -f1 "$work/same.pg" | grep -v '^index$' | sort -u | wc -l)"
n_lines=$(wc -l < "$work/same.pg")
check_match "the comparison saw every column and index ($n_lines lines)" "^(4[0-9]|5[0-9])$" "$n_lines"

# The check can fail: a column missing on the SQLite side, then on the PostgreSQL side.
grep -v "subscriber_count" "$here/sql/sqlite/nezuko_analytics.sql" > "$work/mutant.sql"
out="$(compare sqlite_mutant parity "$work/mutant.sql")"; rc=$?
check_match "parity fails when SQLite lacks a column" "^1:.*enforced_channels\|subscriber_count" "$rc:$out"
out="$(compare pg_mutant parity_mutant "$here/sql/sqlite/nezuko_analytics.sql")"; rc=$?
check_match "parity fails when PostgreSQL lacks a column" "^1:.*verification_log\|error_type" "$rc:$out"

checks_summary parity
