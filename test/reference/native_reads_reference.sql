-- Plain queries that give what the native reads of the contracts give, in
-- the same shape, and the native reads in that shape; shared by the
-- contracts_native_reads regression test and the native_reads concurrency
-- suite.  Tables via search_path.
CREATE SCHEMA IF NOT EXISTS nz_native_reference;

-- What a query counts: the native record's fields, with the columns not asked for as 0.
CREATE FUNCTION nz_native_reference.query_counts(since timestamptz, until timestamptz, today timestamptz, s boolean, c boolean, l boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE sql STABLE AS $$
    SELECT count(*), count(*) FILTER (WHERE "timestamp" >= today),
           CASE WHEN s THEN count(*) FILTER (WHERE status = 'verified') ELSE 0 END,
           CASE WHEN s THEN count(*) FILTER (WHERE status = 'restricted') ELSE 0 END,
           CASE WHEN s THEN count(*) FILTER (WHERE status = 'error') ELSE 0 END,
           CASE WHEN c THEN count(*) FILTER (WHERE cached) ELSE 0 END,
           CASE WHEN l THEN count(latency_ms) ELSE 0 END,
           CASE WHEN l THEN coalesce(sum(latency_ms), 0) ELSE 0 END
    FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until $$;
CREATE FUNCTION nz_native_reference.query_api(since timestamptz, until timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(method, ARRAY[n, s]), '{}') FROM (
        SELECT method, count(*) AS n, count(*) FILTER (WHERE success) AS s FROM api_call_log
        WHERE "timestamp" >= since AND "timestamp" < until GROUP BY method) m $$;
CREATE FUNCTION nz_native_reference.native_api(since timestamptz, until timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(m, ARRAY[n, s]), '{}')
    FROM nezuko_analytics.native_api_counts('public', since, until) a, unnest(a.methods, a.calls, a.ok) u(m, n, s) $$;
CREATE FUNCTION nz_native_reference.query_groups(since timestamptz, until timestamptz, top int) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(format('%s:%s/%s', group_id, n, s), ' ' ORDER BY n DESC, group_id) FROM (
        SELECT group_id, count(*) AS n, count(*) FILTER (WHERE status = 'verified') AS s FROM verification_log
        WHERE "timestamp" >= since AND "timestamp" < until GROUP BY group_id ORDER BY n DESC, group_id LIMIT top) g $$;
CREATE FUNCTION nz_native_reference.native_groups(since timestamptz, until timestamptz, top int) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(format('%s:%s/%s', id, n, s), ' ' ORDER BY o)
    FROM nezuko_analytics.native_group_counts('public', since, until, top) g,
         unnest(g.group_ids, g.calls, g.ok) WITH ORDINALITY u(id, n, s, o) $$;
