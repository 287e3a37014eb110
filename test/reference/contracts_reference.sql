-- Reference implementations of the dashboard's data contracts, written the way
-- the web app's hand-written PL/pgSQL does it (one query per figure, plain
-- percentile_cont).  The tests compare nezuko_analytics.get_* with these as
-- jsonb, key by key; the benchmark times both.  Tables via search_path.
CREATE SCHEMA IF NOT EXISTS nz_contracts;

CREATE OR REPLACE FUNCTION nz_contracts.period(p text, d text) RETURNS interval LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE coalesce(CASE WHEN p IN ('24h','7d','30d','90d') THEN p END, d)
           WHEN '24h' THEN interval '24 hours' WHEN '7d' THEN interval '7 days'
           WHEN '30d' THEN interval '30 days' WHEN '90d' THEN interval '90 days' END $$;

CREATE OR REPLACE FUNCTION nz_contracts.pct(a numeric, b numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN b IS NULL OR b = 0 THEN 0 ELSE round((a * 100.0 / b)::numeric, 1) END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_dashboard_stats() RETURNS json LANGUAGE plpgsql AS $$
DECLARE g bigint; c bigint; today bigint; week bigint; ok bigint; hits bigint;
BEGIN
    SELECT count(*) INTO g FROM protected_groups WHERE enabled = true;
    SELECT count(*) INTO c FROM enforced_channels;
    SELECT count(*) INTO today FROM verification_log WHERE "timestamp" >= current_date;
    SELECT count(*) INTO week FROM verification_log WHERE "timestamp" >= now() - interval '7 days';
    SELECT count(*) INTO ok FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND status = 'verified';
    SELECT count(*) INTO hits FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND cached = true;
    RETURN json_build_object('total_groups', g, 'total_channels', c, 'verifications_today', today,
                             'verifications_week', week, 'success_rate', nz_contracts.pct(ok, week),
                             'cache_hit_rate', nz_contracts.pct(hits, week));
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_verification_distribution() RETURNS json LANGUAGE plpgsql AS $$
DECLARE v bigint; r bigint; e bigint; t bigint;
BEGIN
    SELECT count(*) INTO v FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND status = 'verified';
    SELECT count(*) INTO r FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND status = 'restricted';
    SELECT count(*) INTO e FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND status = 'error';
    SELECT count(*) INTO t FROM verification_log WHERE "timestamp" >= now() - interval '7 days';
    RETURN json_build_object('verified', v, 'restricted', r, 'error', e, 'total', t);
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_cache_breakdown() RETURNS json LANGUAGE plpgsql AS $$
DECLARE hits bigint; t bigint;
BEGIN
    SELECT count(*) INTO hits FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND cached = true;
    SELECT count(*) INTO t FROM verification_log WHERE "timestamp" >= now() - interval '7 days';
    RETURN json_build_object('cached', hits, 'api', t - hits, 'total', t, 'hit_rate', nz_contracts.pct(hits, t));
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_api_calls_distribution() RETURNS json LANGUAGE plpgsql AS $$
DECLARE t bigint; result json;
BEGIN
    SELECT count(*) INTO t FROM api_call_log WHERE "timestamp" >= now() - interval '7 days';
    SELECT coalesce(json_agg(json_build_object('method', method, 'count', n, 'percentage', nz_contracts.pct(n, t))
                             ORDER BY n DESC, method), '[]'::json) INTO result
    FROM (SELECT method::text, count(*) AS n FROM api_call_log WHERE "timestamp" >= now() - interval '7 days' GROUP BY method) m;
    RETURN result;
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_hourly_activity() RETURNS json LANGUAGE plpgsql AS $$
DECLARE result json;
BEGIN
    SELECT json_agg(json_build_object('hour', h, 'label', lpad(h::text, 2, '0') || ':00',
                                      'verifications', coalesce(v, 0), 'restrictions', coalesce(r, 0)) ORDER BY h) INTO result
    FROM generate_series(0, 23) h
    LEFT JOIN (SELECT extract(hour FROM "timestamp")::int AS hour,
                      count(*) FILTER (WHERE status = 'verified') AS v, count(*) FILTER (WHERE status = 'restricted') AS r
               FROM verification_log WHERE "timestamp" >= now() - interval '7 days' GROUP BY 1) a ON a.hour = h;
    RETURN result;
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_latency_distribution(p_period text DEFAULT '7d') RETURNS json LANGUAGE plpgsql AS $$
DECLARE t bigint; result json; since timestamptz := now() - nz_contracts.period(p_period, '7d');
BEGIN
    SELECT count(*) INTO t FROM verification_log WHERE "timestamp" >= since AND latency_ms IS NOT NULL;
    SELECT json_agg(json_build_object('bucket', b.name, 'count', coalesce(n, 0), 'percentage', nz_contracts.pct(coalesce(n, 0), t), 'sort_order', b.i) ORDER BY b.i)
    INTO result
    FROM (VALUES (1, '<50ms'), (2, '50-100ms'), (3, '100-200ms'), (4, '200-500ms'), (5, '>500ms')) b(i, name)
    LEFT JOIN (SELECT CASE WHEN latency_ms < 50 THEN 1 WHEN latency_ms < 100 THEN 2 WHEN latency_ms < 200 THEN 3
                           WHEN latency_ms < 500 THEN 4 ELSE 5 END AS i, count(*) AS n
               FROM verification_log WHERE "timestamp" >= since AND latency_ms IS NOT NULL GROUP BY 1) c USING (i);
    RETURN result;
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_top_groups(p_limit integer DEFAULT 10) RETURNS json LANGUAGE plpgsql AS $$
DECLARE result json; lim int := greatest(coalesce(p_limit, 10), 1);
BEGIN
    SELECT coalesce(json_agg(json_build_object('group_id', group_id, 'title', coalesce(title, 'Group ' || group_id),
                                               'verifications', n, 'success_rate', nz_contracts.pct(ok, n)) ORDER BY n DESC, group_id), '[]'::json)
    INTO result
    FROM (SELECT v.group_id, p.title, count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS ok
          FROM verification_log v LEFT JOIN protected_groups p USING (group_id)
          WHERE v."timestamp" >= now() - interval '7 days'
          GROUP BY v.group_id, p.title ORDER BY n DESC, v.group_id LIMIT lim) t;
    RETURN result;
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_latency_trend(p_period text DEFAULT '30d') RETURNS json LANGUAGE plpgsql AS $$
DECLARE series json; cur numeric; since timestamptz := now() - nz_contracts.period(p_period, '30d');
BEGIN
    SELECT coalesce(json_agg(json_build_object('date', d, 'avg_latency', a, 'p95_latency', p) ORDER BY d), '[]'::json) INTO series
    FROM (SELECT to_char(date_trunc('day', "timestamp"), 'YYYY-MM-DD') AS d, round(avg(latency_ms), 0) AS a,
                 round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric, 0) AS p
          FROM verification_log WHERE "timestamp" >= since AND latency_ms IS NOT NULL GROUP BY 1) x;
    SELECT round(avg(latency_ms), 0) INTO cur FROM verification_log
    WHERE "timestamp" >= since AND latency_ms IS NOT NULL;
    RETURN json_build_object('period', p_period,
                             'series', series, 'current_avg', coalesce(cur, 0));
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_cache_hit_rate_trend(p_period text DEFAULT '30d') RETURNS json LANGUAGE plpgsql AS $$
DECLARE series json; avg_rate numeric; cur_hits bigint; cur_n bigint; since timestamptz := now() - nz_contracts.period(p_period, '30d');
BEGIN
    SELECT coalesce(json_agg(json_build_object('date', d, 'value', v, 'total_count', n) ORDER BY d), '[]'::json),
           coalesce(round(avg(v), 1), 0) INTO series, avg_rate
    FROM (SELECT to_char(date_trunc('day', "timestamp"), 'YYYY-MM-DD') AS d,
                 nz_contracts.pct(count(*) FILTER (WHERE cached), count(*)) AS v, count(*) AS n
          FROM verification_log WHERE "timestamp" >= since GROUP BY 1) x;
    SELECT count(*) FILTER (WHERE cached), count(*) INTO cur_hits, cur_n FROM verification_log
    WHERE "timestamp" >= since AND "timestamp" >= now() - interval '1 day';
    RETURN json_build_object('period', p_period,
                             'series', series, 'current_rate', nz_contracts.pct(cur_hits, cur_n), 'average_rate', avg_rate);
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_verification_trends(p_period text DEFAULT '7d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE plpgsql AS $$
DECLARE series json; t bigint; ok bigint; since timestamptz := now() - nz_contracts.period(p_period, '7d');
        g text := CASE WHEN p_granularity IN ('hour', 'day', 'week') THEN p_granularity ELSE 'day' END;
BEGIN
    SELECT coalesce(json_agg(json_build_object('timestamp', b::text, 'total', n, 'successful', s, 'failed', n - s) ORDER BY b), '[]'::json)
    INTO series
    FROM (SELECT date_trunc(g, "timestamp") AS b, count(*) AS n, count(*) FILTER (WHERE status = 'verified') AS s
          FROM verification_log WHERE "timestamp" >= since GROUP BY 1) x;
    SELECT count(*) INTO t FROM verification_log WHERE "timestamp" >= since;
    SELECT count(*) INTO ok FROM verification_log WHERE "timestamp" >= since AND status = 'verified';
    RETURN json_build_object('period', p_period,
                             'series', series, 'summary', json_build_object('total_verifications', t, 'success_rate', nz_contracts.pct(ok, t)));
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_members_chart_data() RETURNS json LANGUAGE plpgsql AS $$
DECLARE ch json; gr json;
BEGIN
    SELECT coalesce(json_agg(json_build_object('name', name, 'members', m) ORDER BY m DESC, id), '[]'::json) INTO ch
    FROM (SELECT channel_id AS id, coalesce(title, 'Channel ' || channel_id) AS name, coalesce(subscriber_count, 0) AS m
          FROM enforced_channels ORDER BY coalesce(subscriber_count, 0) DESC, channel_id LIMIT 10) c;
    SELECT coalesce(json_agg(json_build_object('name', name, 'members', m) ORDER BY m DESC, id), '[]'::json) INTO gr
    FROM (SELECT group_id AS id, coalesce(title, 'Group ' || group_id) AS name, coalesce(member_count, 0) AS m
          FROM protected_groups ORDER BY coalesce(member_count, 0) DESC, group_id LIMIT 10) g;
    RETURN json_build_object('channels', ch, 'groups', gr);
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_analytics_overview(p_period text DEFAULT NULL) RETURNS json LANGUAGE plpgsql AS $$
DECLARE since timestamptz := now() - nz_contracts.period(p_period, NULL); n bigint; ok bigint; hits bigint; lat numeric; g bigint; c bigint;
BEGIN
    SELECT count(*) INTO n FROM verification_log WHERE since IS NULL OR "timestamp" >= since;
    SELECT count(*) INTO ok FROM verification_log WHERE (since IS NULL OR "timestamp" >= since) AND status = 'verified';
    SELECT count(*) INTO hits FROM verification_log WHERE (since IS NULL OR "timestamp" >= since) AND cached;
    SELECT round(avg(latency_ms), 0) INTO lat FROM verification_log WHERE since IS NULL OR "timestamp" >= since;
    SELECT count(*) INTO g FROM protected_groups;
    SELECT count(*) INTO c FROM enforced_channels;
    RETURN json_build_object('total_verifications', n, 'total_groups', g, 'total_channels', c,
                             'success_rate', nz_contracts.pct(ok, n), 'avg_latency_ms', coalesce(lat, 0),
                             'cache_hit_rate', nz_contracts.pct(hits, n));
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_groups_status() RETURNS json LANGUAGE plpgsql AS $$
DECLARE a bigint; i bigint;
BEGIN
    SELECT count(*) INTO a FROM protected_groups WHERE enabled = true;
    SELECT count(*) INTO i FROM protected_groups WHERE enabled = false;
    RETURN json_build_object('active', a, 'inactive', i, 'total', a + i);
END $$;

CREATE OR REPLACE FUNCTION nz_contracts.get_bot_health() RETURNS json LANGUAGE plpgsql AS $$
DECLARE api numeric; cache numeric; ok numeric; lat numeric; err numeric; n bigint; score numeric; lat_score numeric;
BEGIN
    SELECT nz_contracts.pct(count(*) FILTER (WHERE success), count(*)) INTO api FROM api_call_log WHERE "timestamp" >= now() - interval '7 days';
    SELECT count(*) INTO n FROM verification_log WHERE "timestamp" >= now() - interval '7 days';
    SELECT nz_contracts.pct(count(*), n) INTO cache FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND cached;
    SELECT nz_contracts.pct(count(*), n) INTO ok FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND status = 'verified';
    SELECT nz_contracts.pct(count(*), n) INTO err FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND status = 'error';
    SELECT round(avg(latency_ms), 0) INTO lat FROM verification_log WHERE "timestamp" >= now() - interval '7 days';
    lat_score := CASE WHEN lat IS NULL OR lat < 50 THEN 100 WHEN lat < 100 THEN 90 WHEN lat < 200 THEN 75 WHEN lat < 500 THEN 50 ELSE 25 END;
    score := round(0.35 * api + 0.30 * ok + 0.20 * lat_score + 0.10 * cache + 0.05 * (100 - err), 1);
    RETURN json_build_object('api_success_rate', api, 'cache_efficiency', cache, 'success_rate', ok,
                             'avg_latency_ms', coalesce(lat, 0), 'error_rate', err, 'overall_score', score);
END $$;

-- get_user_growth as the bot's web app defines it: distinct users per day or
-- week, their running sum, and the growth from the first half of the window
-- to the second.
CREATE OR REPLACE FUNCTION nz_contracts.get_user_growth(p_period text DEFAULT '30d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE plpgsql AS $$
DECLARE series json; total bigint; first_half bigint; second_half bigint;
        len interval := CASE p_period WHEN '7d' THEN interval '7 days' WHEN '90d' THEN interval '90 days' ELSE interval '30 days' END;
        since timestamptz := now() - len;
        g text := CASE WHEN p_granularity = 'week' THEN 'week' ELSE 'day' END;
BEGIN
    SELECT coalesce(json_agg(json_build_object('date', to_char(b, 'YYYY-MM-DD'), 'new_users', n, 'total_users', running) ORDER BY b), '[]'::json)
    INTO series
    FROM (SELECT b, n, (sum(n) OVER (ORDER BY b))::integer AS running
          FROM (SELECT date_trunc(g, "timestamp") AS b, count(DISTINCT user_id) AS n
                FROM verification_log WHERE "timestamp" >= since GROUP BY 1) x) y;
    SELECT count(DISTINCT user_id) INTO total FROM verification_log WHERE "timestamp" >= since;
    SELECT count(DISTINCT user_id) INTO first_half FROM verification_log
    WHERE "timestamp" >= since AND "timestamp" < now() - len / 2;
    SELECT count(DISTINCT user_id) INTO second_half FROM verification_log WHERE "timestamp" >= now() - len / 2;
    RETURN json_build_object('period', p_period, 'granularity', p_granularity, 'series', series,
                             'summary', json_build_object('total_new_users', total,
                                                          'growth_rate', CASE WHEN first_half = 0 THEN 0
                                                                              ELSE round((second_half::numeric / first_half - 1) * 100, 1) END));
END $$;
