CREATE FUNCTION nezuko_analytics.hour_rows(hours jsonb)
RETURNS TABLE (hour integer, label text, verifications bigint, restrictions bigint, errors bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.hour, lpad(h.hour::text, 2, '0') || ':00', h.verified, h.restricted, h.error
    FROM jsonb_to_recordset(hours) AS h(hour integer, verified bigint, restricted bigint, error bigint)
    ORDER BY h.hour
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_rows(jsonb) IS
  'The hours of hour_counts() or of dashboard()''s summary as rows: hour, label ''HH:00'', verifications (verified), restrictions, errors; read by name. Shared by hourly_activity() and dashboard().';
