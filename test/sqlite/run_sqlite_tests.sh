#!/usr/bin/env bash
# Tests of sql/sqlite/nezuko_analytics.sql with the real sqlite3 CLI (-bail):
# fresh file, pre-populated bot database, idempotence, rollback, bad files.
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/test/lib/checks.sh"
script="$here/sql/sqlite/nezuko_analytics.sql"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

apply() { sqlite3 -bail "$1" < "$script" 2>&1; }
columns() { sqlite3 "$1" "SELECT group_concat(name, ',') FROM pragma_table_info('$2')"; }

# 1. A fresh file, twice.
out="$(apply "$work/fresh.db")"; rc=$?
check_eq "fresh file: script exits 0" "0" "$rc"
out="$(apply "$work/fresh.db")"; rc=$?
check_eq "fresh file: second run exits 0 and prints nothing (idempotent)" "0:" "$rc:$out"
check_eq "fresh file: api_call_log columns" "id,method,chat_id,user_id,success,latency_ms,error_type,timestamp" "$(columns "$work/fresh.db" api_call_log)"
check_eq "fresh file: protected_groups columns" \
    "group_id,owner_id,title,enabled,params,created_at,updated_at,member_count,last_sync_at" "$(columns "$work/fresh.db" protected_groups)"
check_eq "fresh file: every spec index" \
    "idx_api_call_log_method,idx_api_call_log_method_timestamp,idx_api_call_log_success,idx_api_call_log_timestamp,idx_verification_log_error_type,idx_verification_log_timestamp_cached,idx_verification_log_timestamp_latency" \
    "$(sqlite3 "$work/fresh.db" "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'index' AND name IN ('idx_api_call_log_method','idx_api_call_log_timestamp','idx_api_call_log_method_timestamp','idx_api_call_log_success','idx_verification_log_error_type','idx_verification_log_timestamp_cached','idx_verification_log_timestamp_latency') ORDER BY name)")"
check_eq "fresh file: defaults work" "1|0|1" \
    "$(sqlite3 "$work/fresh.db" "INSERT INTO api_call_log (method) VALUES ('getChat'); INSERT INTO protected_groups (group_id) VALUES (1);
       SELECT (SELECT success FROM api_call_log), (SELECT member_count FROM protected_groups), (SELECT \"timestamp\" IS NOT NULL FROM api_call_log);")"
check_eq "fresh file: no temporary file left behind" "" "$(ls "${TMPDIR:-/tmp}"/nezuko_analytics_sqlite.* 2>/dev/null)"

# 2. The bot's existing development database: old tables with rows, one spec column already there.
sqlite3 -bail "$work/bot.db" <<'SQL'
-- the bot's development database as SQLAlchemy made it before the spec
CREATE TABLE protected_groups (group_id BIGINT NOT NULL PRIMARY KEY, owner_id BIGINT, title VARCHAR(255),
    enabled BOOLEAN NOT NULL DEFAULT 1, params JSON, created_at DATETIME, updated_at DATETIME,
    member_count INTEGER NOT NULL DEFAULT 0 CHECK (member_count >= 0));
CREATE TABLE enforced_channels (channel_id BIGINT NOT NULL PRIMARY KEY, title VARCHAR(255), username VARCHAR(64),
    invite_link TEXT, created_at DATETIME, updated_at DATETIME);
CREATE TABLE group_channel_links (id INTEGER PRIMARY KEY AUTOINCREMENT, group_id BIGINT, channel_id BIGINT,
    is_required BOOLEAN DEFAULT 1, created_at DATETIME, UNIQUE (group_id, channel_id));
CREATE TABLE verification_log (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id BIGINT NOT NULL, group_id BIGINT NOT NULL,
    channel_id BIGINT, status VARCHAR(20) NOT NULL, latency_ms INTEGER, cached BOOLEAN NOT NULL DEFAULT 0,
    "timestamp" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX ix_verification_log_timestamp ON verification_log ("timestamp");
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500)
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT n, n % 7, CASE n % 3 WHEN 0 THEN 'verified' WHEN 1 THEN 'restricted' ELSE 'error' END,
       CASE WHEN n % 11 = 0 THEN NULL ELSE n * 2 END, n % 2, datetime('2026-11-01', '+' || n || ' minutes') FROM g;
INSERT INTO protected_groups (group_id, title, member_count) VALUES (1, 'one', 10), (2, 'two', 20);
INSERT INTO enforced_channels (channel_id, title) VALUES (5, 'five');
SQL
cp "$work/bot.db" "$work/readonly.db"   # kept in the pre-spec shape for case 5
before="$(sqlite3 "$work/bot.db" "SELECT group_concat(id || '|' || user_id || '|' || group_id || '|' || status || '|' || ifnull(latency_ms, 'N') || '|' || cached || '|' || \"timestamp\", ';') FROM verification_log;
                                   SELECT group_concat(group_id || '|' || title || '|' || member_count, ';') FROM protected_groups;" | md5sum)"
out="$(apply "$work/bot.db")"; rc=$?
check_eq "bot database: script exits 0" "0" "$rc"
out="$(apply "$work/bot.db")"; rc=$?
check_eq "bot database: second run exits 0" "0" "$rc"
after="$(sqlite3 "$work/bot.db" "SELECT group_concat(id || '|' || user_id || '|' || group_id || '|' || status || '|' || ifnull(latency_ms, 'N') || '|' || cached || '|' || \"timestamp\", ';') FROM verification_log;
                                  SELECT group_concat(group_id || '|' || title || '|' || member_count, ';') FROM protected_groups;" | md5sum)"
check_eq "bot database: every row of the original columns unchanged" "$before" "$after"
check_eq "bot database: member_count kept as it was (NOT NULL, CHECK)" "1" \
    "$(sqlite3 "$work/bot.db" "SELECT \"notnull\" FROM pragma_table_info('protected_groups') WHERE name = 'member_count'")"
check_match "bot database: member_count's CHECK kept" "CHECK \(member_count >= 0\)" "$(sqlite3 "$work/bot.db" "SELECT sql FROM sqlite_schema WHERE name = 'protected_groups'")"
check_eq "bot database: missing columns added" "last_sync_at|subscriber_count|error_type" \
    "$(sqlite3 "$work/bot.db" "SELECT (SELECT name FROM pragma_table_info('protected_groups') WHERE name = 'last_sync_at') || '|' ||
        (SELECT name FROM pragma_table_info('enforced_channels') WHERE name = 'subscriber_count') || '|' ||
        (SELECT name FROM pragma_table_info('verification_log') WHERE name = 'error_type')")"
check_eq "bot database: api_call_log created" "8" "$(sqlite3 "$work/bot.db" "SELECT count(*) FROM pragma_table_info('api_call_log')")"

# 3. A failure part-way rolls back everything (one transaction): a view that
#    holds the name of a spec index makes the index step fail after the tables
#    and columns were made.
sqlite3 -bail "$work/partial.db" "CREATE TABLE protected_groups (group_id BIGINT PRIMARY KEY, title TEXT, enabled BOOLEAN NOT NULL DEFAULT 1);
                                  CREATE VIEW idx_api_call_log_success AS SELECT 1;"
out="$(apply "$work/partial.db")"; rc=$?
check_match "a failing run exits non-zero with sqlite3's message" "^1:.*already a table named idx_api_call_log_success" "$rc:$out"
check_eq "a failing run changes nothing" "group_id,title,enabled|0" \
    "$(sqlite3 "$work/partial.db" "SELECT (SELECT group_concat(name, ',') FROM pragma_table_info('protected_groups')) || '|' || (SELECT count(*) FROM sqlite_schema WHERE name = 'api_call_log')")"

# 4. Not an SQLite file.
printf 'this is not a database, just text\n%.0s' {1..200} > "$work/notes.txt"
cp "$work/notes.txt" "$work/notes.orig"
out="$(apply "$work/notes.txt")"; rc=$?
check_match "non-SQLite file: non-zero exit with sqlite3's message" "^1:.*file is not a database" "$rc:$out"
check_eq "non-SQLite file: left unchanged" "$(md5sum < "$work/notes.orig")" "$(md5sum < "$work/notes.txt")"

# 5. A read-only file (as an unprivileged user: root may write anyway).
chmod 444 "$work/readonly.db"; chmod 755 "$work"
ro_before="$(md5sum < "$work/readonly.db")"
if [[ "$(id -u)" == 0 ]]; then
    out="$(cd "$work" && runuser -u "${PG_OS_USER:-postgres}" -- sqlite3 -bail "$work/readonly.db" < "$script" 2>&1)"; rc=$?
else
    out="$(apply "$work/readonly.db")"; rc=$?
fi
check_match "read-only file: non-zero exit with sqlite3's message" "^1:.*readonly database" "$rc:$out"
check_eq "read-only file: left unchanged" "$ro_before" "$(md5sum < "$work/readonly.db")"

# 6. prune.sql: the 90-day clean-up, on rows either side of the cutoff.
prune="$here/sql/sqlite/prune.sql"
apply "$work/prune.db" >/dev/null
sqlite3 -bail "$work/prune.db" <<'SQL'
INSERT INTO api_call_log (method, "timestamp") VALUES
    ('old', datetime('now', '-91 days')),
    ('old_microseconds', strftime('%Y-%m-%d %H:%M:%f', 'now', '-100 days')),
    ('old_iso_offset', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-95 days')),
    ('recent', datetime('now', '-89 days')),
    ('recent_iso', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-1 days')),
    ('no_time', NULL);
INSERT INTO verification_log (user_id, group_id, status, "timestamp") VALUES
    (1, 1, 'verified', datetime('now', '-120 days')),
    (2, 1, 'verified', datetime('now', '-30 days'));
SQL
out="$(sqlite3 -bail "$work/prune.db" < "$prune" 2>&1)"; rc=$?
check_eq "prune.sql exits 0 and reports what it deleted" \
    "0:api_call_log: 3 rows older than 90 days deleted|verification_log: 1 rows older than 90 days deleted" "$rc:$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
check_eq "prune.sql keeps recent rows and rows without a timestamp" "new:no_time,recent,recent_iso|verified:1" \
    "$(sqlite3 "$work/prune.db" "SELECT 'new:' || group_concat(method, ',') FROM (SELECT method FROM api_call_log ORDER BY method)")|$(sqlite3 "$work/prune.db" "SELECT 'verified:' || count(*) FROM verification_log")"
out="$(sqlite3 -bail "$work/prune.db" < "$prune" 2>&1)"; rc=$?
check_eq "prune.sql run again deletes nothing" "0:api_call_log: 0 rows older than 90 days deleted|verification_log: 0 rows older than 90 days deleted" "$rc:$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
out="$(sqlite3 -bail "$work/notes.txt" < "$prune" 2>&1)"; rc=$?
check_match "prune.sql on a non-SQLite file fails with sqlite3's message" "^1:.*file is not a database" "$rc:$out"

checks_summary sqlite
