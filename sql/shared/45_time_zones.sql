-- Local time: the UTC offsets of a time zone over a window, found here in
-- SQL (PostgreSQL's own time-zone rules) and applied to each row by the
-- engine that groups by local hour or day: in C++ by the native edition's
-- aggregates (src/core/local_time.hpp), in SQL by the portable edition
-- (local_shift_sql()).  Both editions place every row by the same offsets.

CREATE FUNCTION nezuko_analytics.tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result bigint[];
    prev_offset bigint;
    day_start timestamptz;
    q timestamptz;
    q_offset bigint;
BEGIN
    -- offset(t) = local wall clock - UTC wall clock, in microseconds; the
    -- start of each segment in microseconds since 2000-01-01 UTC.
    FOR day_start IN SELECT generate_series(date_trunc('day', since, 'UTC') - interval '1 day',
                                            until + interval '1 day', interval '1 day') LOOP
        q_offset := (extract(epoch FROM (day_start AT TIME ZONE tz) - (day_start AT TIME ZONE 'UTC')) * 1000000)::bigint;
        IF prev_offset IS NULL THEN
            result := ARRAY[((extract(epoch FROM day_start) - 946684800) * 1000000)::bigint, q_offset];
        ELSIF q_offset <> prev_offset THEN
            -- the offset changed during the previous day: find each quarter hour where it did
            FOR q IN SELECT generate_series(day_start - interval '1 day' + interval '15 minutes', day_start, interval '15 minutes') LOOP
                q_offset := (extract(epoch FROM (q AT TIME ZONE tz) - (q AT TIME ZONE 'UTC')) * 1000000)::bigint;
                IF q_offset <> prev_offset THEN
                    result := result || ARRAY[((extract(epoch FROM q) - 946684800) * 1000000)::bigint, q_offset];
                    prev_offset := q_offset;
                END IF;
            END LOOP;
        END IF;
        prev_offset := q_offset;
    END LOOP;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.tz_offsets(timestamptz, timestamptz, text) IS
  'The UTC offsets of time zone tz over [since, until) as (segment start, offset) pairs in microseconds (starts since 2000-01-01 UTC), found to the quarter hour; what the engines use to place each row in its local hour and day.';

CREATE FUNCTION nezuko_analytics.window_tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    first_row timestamptz;
    last_row timestamptz;
BEGIN
    -- Privileges before any per-day work: a role that may not read the
    -- table gets the query's error at once, whatever the window.
    PERFORM nezuko_analytics.require_select(bot, 'verification_log');
    IF isfinite(since) AND isfinite(until) AND until - since <= interval '400 days' THEN
        RETURN nezuko_analytics.tz_offsets(since, until, tz);
    END IF;
    -- An open window (the contracts' "since now() - period") or a long one:
    -- only the span that holds rows needs offsets, found by two index
    -- probes, so the per-day work is bounded by the data present.  Rows at
    -- +-infinity belong to no local hour or day.
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    IF first_row IS NULL THEN
        RETURN NULL;  -- no rows: local time is never asked for
    END IF;
    -- Offsets are looked up from 1900 to 2100 at most (a row outside takes
    -- the offset of the nearest end): at most 200 years of per-day work,
    -- whatever timestamps the table holds.
    first_row := least(greatest(first_row, timestamptz '1900-01-01 00:00+00'), timestamptz '2100-01-01 00:00+00');
    last_row := least(greatest(last_row, first_row), timestamptz '2100-01-01 00:00+00');
    RETURN nezuko_analytics.tz_offsets(first_row, last_row, tz);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_tz_offsets(timestamptz, timestamptz, text) IS
  'tz_offsets() for a window [since, until): over the window itself when both ends are finite and at most 400 days apart, else over the span of the bot''s verification_log rows in it (NULL when none), within 1900 to 2100 (a row outside takes the offset of the nearest end), so the per-day work is bounded; checks USAGE and SELECT first. What both editions place rows in local hours and days with.';
