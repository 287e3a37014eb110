-- Rollups (docs/rollups.md): exact aggregates of the bot's log tables per
-- quarter hour of UTC, kept in real time by invalidation and kept past the
-- raw rows' retention.  The script creates the tables empty and config-dumped
-- (pg_dump saves their rows, a restore brings them back complete);
-- enable_rollups() fills them.

CREATE TABLE nezuko_analytics.rollup_state (
    source         text PRIMARY KEY CHECK (source IN ('verification_log', 'api_call_log')),
    keep           interval NOT NULL CHECK (keep > interval '0'),
    built_from     timestamptz NOT NULL,
    watermark      timestamptz NOT NULL,
    frozen_before  timestamptz NOT NULL DEFAULT '-infinity',
    enabled_at     timestamptz NOT NULL DEFAULT now(),
    last_refresh   timestamptz,
    last_refresh_ms float8,
    last_refresh_buckets bigint,
    CHECK (built_from <= watermark)
);
COMMENT ON TABLE nezuko_analytics.rollup_state IS
  'Per source table with rollups: how long they keep (keep), the quarter hours materialized ([built_from, watermark); later ones are read from the raw rows), the time before which they are frozen (frozen_before: the raw rows there may be pruned, so they are never computed again; it only moves forward), and the last refresh (when, how long, how many quarter hours). A row here means rollups are enabled for that table.';

CREATE TABLE nezuko_analytics.rollup_pending (
    source text NOT NULL CHECK (source IN ('verification_log', 'api_call_log')),
    bucket timestamptz NOT NULL
);
COMMENT ON TABLE nezuko_analytics.rollup_pending IS
  'Quarter hours whose raw rows changed since they were materialized (written by the rollup_invalidate() trigger in the writer''s transaction; -infinity after a TRUNCATE: all of them). Readers take such quarter hours from the raw rows; refresh_rollups() recomputes them and deletes the rows it saw. Append-only between refreshes: the same quarter hour may appear many times.';

CREATE TABLE nezuko_analytics.rollup_verifications (
    bucket        timestamptz PRIMARY KEY,
    total         bigint NOT NULL,
    verified      bigint NOT NULL,
    restricted    bigint NOT NULL,
    error         bigint NOT NULL,
    cached        bigint NOT NULL,
    latency_count bigint NOT NULL,
    latency_sum   bigint NOT NULL,
    latencies     nezuko_analytics.latency_dist NOT NULL
);
COMMENT ON TABLE nezuko_analytics.rollup_verifications IS
  'verification_log per quarter hour of UTC (bucket is its start): rows, rows by status (verified, restricted, error) and cached, and the exact distribution of the non-NULL latencies with their count and sum. Quarter hours without rows have no row.';

CREATE TABLE nezuko_analytics.rollup_verification_groups (
    day      timestamptz NOT NULL,
    group_id bigint NOT NULL,
    total    bigint NOT NULL,
    verified bigint NOT NULL,
    PRIMARY KEY (day, group_id)
);
COMMENT ON TABLE nezuko_analytics.rollup_verification_groups IS
  'verification_log per UTC day and group (group_id NULL as 0): rows and verified rows, of the day''s materialized quarter hours. A coarser grain than the quarter hour: 2,000 active groups per quarter hour would make this table 96 times larger (docs/rollups.md).';

CREATE TABLE nezuko_analytics.rollup_api_calls (
    bucket        timestamptz NOT NULL,
    method        text NOT NULL,
    calls         bigint NOT NULL,
    ok            bigint NOT NULL,
    failures      bigint NOT NULL,
    latency_count bigint NOT NULL,
    latency_sum   bigint NOT NULL,
    latencies     nezuko_analytics.latency_dist NOT NULL,
    PRIMARY KEY (bucket, method)
);
COMMENT ON TABLE nezuko_analytics.rollup_api_calls IS
  'api_call_log per quarter hour of UTC and method (NULL as ''''): calls, successes (ok), failures, and the exact distribution of the non-NULL latencies with their count and sum.';

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_state', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_pending', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_verifications', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_verification_groups', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_api_calls', '');

CREATE FUNCTION nezuko_analytics.rollup_invalidate()
RETURNS trigger LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'nz_rollup_invalidate';
COMMENT ON FUNCTION nezuko_analytics.rollup_invalidate() IS
  'Statement-level AFTER trigger of the log tables (arguments: source, time column): records the quarter hours of the statement''s old and new rows in rollup_pending (a TRUNCATE: -infinity), as rollup_pending''s owner in a security-restricted operation. Installed by enable_rollups().';
