-- Rollups (docs/rollups.md): exact aggregates of the bot's log tables per
-- quarter hour of UTC, and per local day of the time zones in use made from
-- those, kept in real time by invalidation and kept past the raw rows'
-- retention.  The script creates the tables empty and config-dumped
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
    time_zones     text[] NOT NULL DEFAULT ARRAY['UTC'] CHECK ('UTC' = ANY (time_zones)),
    CHECK (built_from <= watermark)
);
COMMENT ON TABLE nezuko_analytics.rollup_state IS
  'Per source table with rollups: how long they keep (keep), the quarter hours materialized ([built_from, watermark); later ones are read from the raw rows), the time before which they are frozen (frozen_before: the raw rows there may be pruned, so they are never computed again; it only moves forward), and the last refresh (when, how long, how many quarter hours), and the time zones whose local days are kept in rollup_days (UTC always). A row here means rollups are enabled for that table.';

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
    latencies     nezuko_analytics.latency_dist NOT NULL,
    groups        bytea NOT NULL
);
COMMENT ON TABLE nezuko_analytics.rollup_verifications IS
  'verification_log per quarter hour of UTC (bucket is its start): rows, rows by status (verified, restricted, error) and cached, the exact distribution of the non-NULL latencies with their count and sum, and groups: per group (NULL as 0) its rows and verified rows, in a compact binary form (src/core/group_counts.hpp, about 4 bytes a group). Quarter hours without rows have no row.';

-- A quarter hour's latencies and group counts are a few KB, compressed
-- when stored: with lz4 where the server has it (pglz took most of the time
-- of writing a build's 11,500 rows, 1.0 s against 0.26 s; lz4 stores about
-- a quarter more, 23 MB against 18 MB for 120 days of the benchmark's data),
-- else with pglz, the default.
DO $$
BEGIN
    ALTER TABLE nezuko_analytics.rollup_verifications ALTER COLUMN latencies SET COMPRESSION lz4,
                                                      ALTER COLUMN groups SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;  -- PostgreSQL built without lz4
END;
$$;

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

CREATE TABLE nezuko_analytics.rollup_days (
    source    text NOT NULL CHECK (source IN ('verification_log', 'api_call_log')),
    time_zone text NOT NULL,
    day       date NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL CHECK (ends_at > starts_at),
    summary   bytea NOT NULL,
    PRIMARY KEY (source, time_zone, starts_at)
);
-- a day's state is read whole and hardly compresses: kept as it is
ALTER TABLE nezuko_analytics.rollup_days ALTER COLUMN summary SET STORAGE EXTERNAL;
COMMENT ON TABLE nezuko_analytics.rollup_days IS
  'The local days of the time zones in rollup_state.time_zones, made from the quarter hours: per source, zone and day [starts_at, ends_at), the binary state of the dashboard''s summary of that day''s quarter hours (verification_summary''s or api_summary''s, with the zone''s local hours and day), which a reader merges in one step instead of 96 quarter hours. Only days whose quarter hours are all materialized; a day without rows has no row.';

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_state', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_pending', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_verifications', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_api_calls', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_days', '');

CREATE FUNCTION nezuko_analytics.rollup_groups(groups bytea)
RETURNS jsonb LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_rollup_groups';
COMMENT ON FUNCTION nezuko_analytics.rollup_groups(bytea) IS
  'The group counts of a quarter hour of rollup_verifications (its groups column) as [{"group_id", "total", "verified"}] by increasing id; an ERROR (22P03) for bytes that are not such counts. Example: SELECT bucket, nezuko_analytics.rollup_groups(groups) FROM nezuko_analytics.rollup_verifications ORDER BY bucket DESC LIMIT 1;';

CREATE FUNCTION nezuko_analytics.rollup_invalidate()
RETURNS trigger LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'nz_rollup_invalidate';
COMMENT ON FUNCTION nezuko_analytics.rollup_invalidate() IS
  'Statement-level AFTER trigger of the log tables (arguments: source, time column): records the quarter hours of the statement''s old and new rows in rollup_pending (a TRUNCATE: -infinity), as rollup_pending''s owner in a security-restricted operation. Installed by enable_rollups().';
