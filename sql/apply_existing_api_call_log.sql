-- api_call_log already exists in a later shape (bigint id, an extra bot_id,
-- NOT NULL columns) and without two of the spec's columns and indexes: it is
-- kept as it is with every row, and only what is missing is added.
\set SHOW_CONTEXT never
CREATE SCHEMA later;
CREATE TABLE later.api_call_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id integer NOT NULL,
    method text NOT NULL,
    chat_id bigint,
    success boolean NOT NULL DEFAULT true,
    latency_ms integer NOT NULL,
    "timestamp" timestamptz NOT NULL DEFAULT now());
CREATE INDEX idx_api_call_log_method ON later.api_call_log (method);
INSERT INTO later.api_call_log (bot_id, method, chat_id, success, latency_ms, "timestamp")
SELECT 1, 'm' || (g % 4), g, g % 10 <> 0, g, '2026-11-01 00:00:00+00'::timestamptz + g * interval '1 second'
FROM generate_series(1, 1000) g;
CREATE TABLE api_before AS SELECT * FROM later.api_call_log;

CREATE EXTENSION nezuko_analytics;
SELECT * FROM nezuko_analytics.apply_schema('later');
SELECT * FROM nezuko_analytics.apply_schema('later');  -- idempotent: no lines

SELECT column_name, data_type, column_default, is_nullable, is_identity
FROM information_schema.columns WHERE table_schema = 'later' AND table_name = 'api_call_log'
ORDER BY ordinal_position;
SELECT indexname FROM pg_indexes WHERE schemaname = 'later' AND tablename = 'api_call_log' ORDER BY 1;
SELECT count(*) AS rows_now,
       (SELECT count(*) FROM api_before) AS rows_before,
       count(*) FILTER (WHERE (a.id, a.bot_id, a.method, a.chat_id, a.success, a.latency_ms, a."timestamp")
                              IS NOT DISTINCT FROM (b.id, b.bot_id, b.method, b.chat_id, b.success, b.latency_ms, b."timestamp")) AS identical
FROM later.api_call_log a JOIN api_before b USING (id);

-- The table was not created by apply_schema, so revert_schema() keeps it and its rows.
SELECT * FROM nezuko_analytics.revert_schema();
SELECT count(*) AS rows_after_revert FROM later.api_call_log;
SELECT column_name FROM information_schema.columns
WHERE table_schema = 'later' AND table_name = 'api_call_log' ORDER BY ordinal_position;

DROP EXTENSION nezuko_analytics;
DROP SCHEMA later CASCADE;
DROP TABLE api_before;
