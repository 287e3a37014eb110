-- Local time in the portable edition: each row placed by the zone's offsets
-- over the window (window_tz_offsets(), the native edition's own), applied
-- in SQL.  No zone lookup per row: the row's time plus its segment's offset
-- is its local wall clock read as UTC, binned with date_bin.

CREATE FUNCTION nezuko_analytics.local_shift_sql(offsets bigint[])
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := coalesce(cardinality(offsets), 0) / 2;
    cases text := '';
BEGIN
    IF n = 0 THEN
        RETURN 'v."timestamp"';  -- no rows in the window: nothing is placed
    END IF;
    -- offsets: (segment start, offset) pairs in microseconds, starts since
    -- 2000-01-01 UTC; a row before the second start takes the first offset,
    -- one after the last start the last (as the native edition does)
    FOR i IN 2 .. n LOOP
        cases := cases || format(' WHEN v."timestamp" < %L::timestamptz THEN %L::interval',
                                 to_char((timestamptz '2000-01-01 00:00:00+00'
                                          + (offsets[2 * i - 1]::text || ' microseconds')::interval) AT TIME ZONE 'UTC',
                                         'YYYY-MM-DD"T"HH24:MI:SS.US"+00"'),
                                 offsets[2 * i - 2]::text || ' microseconds');
    END LOOP;
    IF n = 1 THEN  -- one offset over the whole window
        RETURN format('(v."timestamp" + %L::interval)', offsets[2]::text || ' microseconds');
    END IF;
    RETURN format('(v."timestamp" + CASE%s ELSE %L::interval END)', cases, offsets[2 * n]::text || ' microseconds');
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.local_shift_sql(bigint[]) IS
  'SQL for a verification_log row''s (aliased v) time plus its zone offset from offsets (window_tz_offsets()): its local wall clock read as UTC, so date_bin(''1 hour''/''1 day'', .., ''2000-01-01+00'') gives its local hour and day.';
