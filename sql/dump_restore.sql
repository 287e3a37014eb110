-- pg_dump + pg_restore of a database with the extension and the applied
-- schema into a new database exits 0 with the same rows; the same after
-- revert_schema().  (pg_restore runs CREATE EXTENSION on the empty database
-- first, then the dump's own DDL and data.)
\set SHOW_CONTEXT never
CREATE DATABASE nz_dump_src;
CREATE DATABASE nz_dump_dst;
CREATE DATABASE nz_dump_reverted;
\c nz_dump_src
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema();
INSERT INTO protected_groups (group_id, title, member_count) SELECT g, 'g' || g, g * 3 FROM generate_series(1, 50) g;
INSERT INTO enforced_channels (channel_id, title, subscriber_count) SELECT g, 'c' || g, g FROM generate_series(1, 5) g;
INSERT INTO group_channel_links (group_id, channel_id) SELECT g, g % 5 + 1 FROM generate_series(1, 50) g;
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp", error_type)
SELECT g, g % 50 + 1, (ARRAY['verified','restricted','error'])[g % 3 + 1], nullif(g % 400, 7), g % 4 = 0,
       '2026-09-01 00:00:00+00'::timestamptz + g * interval '5 minutes', CASE WHEN g % 3 = 2 THEN 'Forbidden' END
FROM generate_series(1, 2000) g;
INSERT INTO api_call_log (method, latency_ms, success) SELECT 'getChatMember', g, g % 9 <> 0 FROM generate_series(1, 300) g;
SELECT (SELECT md5(string_agg(p::text, ',' ORDER BY group_id)) FROM protected_groups p) AS groups_digest,
       (SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM verification_log v) AS log_digest,
       (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM api_call_log a) AS api_digest,
       (SELECT md5(string_agg(c::text, ',' ORDER BY step)) FROM nezuko_analytics.schema_changes c) AS changes_digest
\gset src_
\! pg_dump -Fc -d nz_dump_src -f nz_roundtrip.dump; echo "pg_dump exit status: $?"
\! pg_restore --exit-on-error -d nz_dump_dst nz_roundtrip.dump; echo "pg_restore exit status: $?"

\c nz_dump_dst
\set SHOW_CONTEXT never
SELECT (SELECT md5(string_agg(p::text, ',' ORDER BY group_id)) FROM protected_groups p) = :'src_groups_digest' AS groups_same,
       (SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM verification_log v) = :'src_log_digest' AS log_same,
       (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM api_call_log a) = :'src_api_digest' AS api_same,
       (SELECT md5(string_agg(c::text, ',' ORDER BY step)) FROM nezuko_analytics.schema_changes c) = :'src_changes_digest' AS bookkeeping_same;
SELECT nezuko_analytics.bot_schema();
SELECT * FROM nezuko_analytics.apply_schema();  -- the restored schema is complete: no lines
INSERT INTO api_call_log (method) VALUES ('afterRestore') RETURNING id > 300 AS sequence_restored;

-- revert_schema() on the restored database, then the same round trip again.
SELECT count(*) AS reverted FROM nezuko_analytics.revert_schema();
SELECT (SELECT md5(string_agg(row(group_id, owner_id, title, enabled, params, created_at, updated_at)::text, ',' ORDER BY group_id)) FROM protected_groups) AS groups_digest,
       (SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM verification_log v) AS log_digest
\gset rev_
\! pg_dump -Fc -d nz_dump_dst -f nz_roundtrip.dump; echo "pg_dump exit status: $?"
\! pg_restore --exit-on-error -d nz_dump_reverted nz_roundtrip.dump; echo "pg_restore exit status: $?"; rm -f nz_roundtrip.dump

\c nz_dump_reverted
SELECT (SELECT md5(string_agg(row(group_id, owner_id, title, enabled, params, created_at, updated_at)::text, ',' ORDER BY group_id)) FROM protected_groups) = :'rev_groups_digest' AS groups_same,
       (SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM verification_log v) = :'rev_log_digest' AS log_same,
       (SELECT count(*) FROM verification_log) AS log_rows,
       to_regclass('public.api_call_log') AS api_call_log;
SELECT count(*) AS recorded_changes FROM nezuko_analytics.schema_changes;

\c contrib_regression
DROP DATABASE nz_dump_src;
DROP DATABASE nz_dump_dst;
DROP DATABASE nz_dump_reverted;
