#!/usr/bin/env bash
# The portable edition nezuko_analytics_sql on a Supabase-like server, against
# the native edition on the same rows.
#
# The server preloads pg_cron and pg_tle (built from the vendored source by
# scripts/install-pgtle.sh when missing; without it the suite fails).  As on
# hosted Supabase, the database's owner app_owner is not a superuser: it is a
# pgtle_admin, owns the bot's tables, and the API roles anon, authenticated
# and service_role (BYPASSRLS) get ALL on its new tables by default
# privileges.  app_owner registers the edition with build/portable/
# install_pgtle.sql, creates it, applies the schema, and runs the charts,
# contracts, retention and pg_cron scheduling; every shared call is compared
# with the native edition in a copy of the same database.
#   bash test/portable/run_portable_tests.sh      (after make install)
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
source scripts/lib/pg_server.sh
source test/lib/checks.sh

if ! bash scripts/install-pgtle.sh; then
    fail "pg_tle is installed (scripts/install-pgtle.sh)" "pg_tle could not be built or installed; the portable edition cannot be tested"
    checks_summary portable
    exit 1
fi
pass "pg_tle is installed"
if ! make -s portable >/dev/null; then
    fail "make portable builds the portable edition"
    checks_summary portable
    exit 1
fi
version="$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" nezuko_analytics.control)"
check_eq "make portable writes the script, install_pgtle.sql and the database.dev layout" "ok" \
    "$( [[ -s build/portable/nezuko_analytics_sql--$version.sql && -s build/portable/install_pgtle.sql && \
          -s build/portable/dbdev/nezuko_analytics_sql.control && -s build/portable/dbdev/README.md ]] && echo ok)"

dir="$(pg_make_dir)"
work="$(mktemp -d)"
trap 'pg_server_stop "$dir"; rm -rf "$dir" "$work"' EXIT
pg_server_start "$dir" 54336 nz_portable || { fail "server starts"; checks_summary portable; exit 1; }
echo "shared_preload_libraries = 'pg_cron,pg_tle'" >>"$dir/data/postgresql.conf"
as_pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w restart >/dev/null

sup() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }                     # the platform (a superuser)
app() { psql -qXAt -v ON_ERROR_STOP=1 -U app_owner -d nz_portable "$@"; }  # Supabase's "postgres"

# Supabase's roles (the cluster's superuser stands for supabase_admin).
sup -d postgres >/dev/null <<'SQL' || exit 1
CREATE ROLE app_owner LOGIN CREATEROLE NOSUPERUSER;
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
CREATE ROLE service_role NOLOGIN BYPASSRLS;
GRANT anon, authenticated, service_role TO app_owner;  -- as Supabase grants them to postgres
CREATE ROLE nz_reader LOGIN BYPASSRLS;  -- may read and delete, but owns nothing
SQL

# The rows, once: a database the native edition filled, then left (DROP
# EXTENSION keeps the bot's tables); both databases are copies of it.
anchor="$(sup -d postgres -c "SELECT date_trunc('day', now())")"
sup -d postgres -c "CREATE DATABASE nz_seed" || exit 1
sup -d nz_seed -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null 2>&1
sup -d nz_seed -v vrows=40000 -v arows=8000 -v groups=300 -v anchor="'$anchor'" -f test/data/generate_sample.sql >/dev/null
sup -d nz_seed >/dev/null <<SQL
-- edges: rows on the window bounds, future rows, NULL latencies and
-- successes, an unknown status, a row stamped infinity, one large group
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp") VALUES
    (1, 42, 'verified', 40, true, '$anchor'::timestamptz - interval '7 days'),
    (2, 42, 'verified', NULL, false, '$anchor'::timestamptz),
    (3, 42, 'pending', 12, false, '$anchor'::timestamptz - interval '2 hours'),
    (4, 43, 'error', 0, false, '$anchor'::timestamptz + interval '2 days'),
    (5, 43, 'restricted', 100000, true, 'infinity');
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g % 977, 7, CASE WHEN g % 5 = 0 THEN 'restricted' ELSE 'verified' END, g % 700, g % 3 = 0,
       '$anchor'::timestamptz - g * interval '37 seconds'
FROM generate_series(1, 3000) g;
INSERT INTO api_call_log (method, success, latency_ms, "timestamp") VALUES
    ('getChatMember', true, 10, '$anchor'::timestamptz + interval '1 day'),
    ('oddMethod', NULL, NULL, '$anchor'::timestamptz - interval '3 hours'),
    ('sendMessage', false, 250, '$anchor'::timestamptz - interval '1 hour');
-- get_cache_hit_rate_trend's current_rate covers the 24 hours before now():
-- no row within an hour of that bound, so both editions, run seconds apart,
-- count the same rows.
DELETE FROM verification_log WHERE "timestamp" BETWEEN now() - interval '25 hours' AND now() - interval '23 hours';
CREATE SCHEMA nz_edition;
CREATE TABLE nz_edition.anchor AS SELECT '$anchor'::timestamptz AS at;
DROP EXTENSION nezuko_analytics;
VACUUM ANALYZE;
SQL
sup -d postgres -c "CREATE DATABASE nz_native TEMPLATE nz_seed" || exit 1
sup -d nz_native -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null 2>&1

# The Supabase-like database: a non-superuser owner, the API roles, default
# privileges, pg_tle and pg_cron installed by the platform.
sup -d postgres >/dev/null <<'SQL' || exit 1
CREATE DATABASE nz_portable TEMPLATE nz_seed OWNER app_owner;
SQL
sup -d nz_portable >/dev/null <<'SQL' || exit 1
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' LOOP
        EXECUTE format('ALTER TABLE public.%I OWNER TO app_owner', r.relname);
    END LOOP;
END $$;
ALTER SCHEMA nz_edition OWNER TO app_owner;
ALTER TABLE nz_edition.anchor OWNER TO app_owner;
GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
CREATE EXTENSION pg_tle;
GRANT pgtle_admin TO app_owner;
CREATE EXTENSION pg_cron;
GRANT USAGE ON SCHEMA cron TO app_owner;
SQL
check_eq "app_owner is not a superuser" "f" "$(sup -d postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'app_owner'")"

# 1. Registered and created by the non-superuser.
out="$(app -f build/portable/install_pgtle.sql 2>&1)"
check_match "install_pgtle.sql registers the edition as a pgtle_admin" "^t" "$out"
out="$(app -f build/portable/install_pgtle.sql 2>&1)"
check_match "install_pgtle.sql runs again without error" "t$" "$out"
out="$(app -c "CREATE EXTENSION nezuko_analytics_sql" -c "SELECT nezuko_analytics.version()" 2>&1)"
check_eq "CREATE EXTENSION nezuko_analytics_sql as app_owner" "$version" "$out"
out="$(sup -d nz_portable -c "CREATE EXTENSION nezuko_analytics" 2>&1)"
check_match "the native edition refuses a database with the portable one" "nezuko_analytics cannot be installed: the portable edition nezuko_analytics_sql is installed" "$out"
out="$(sup -d nz_native -c "CREATE EXTENSION pg_tle" -f build/portable/install_pgtle.sql -c "CREATE EXTENSION nezuko_analytics_sql" 2>&1)"
check_match "the portable edition refuses a database with the native one" "nezuko_analytics_sql cannot be installed: the native edition nezuko_analytics is installed" "$out"

# 1b. Every earlier version that shipped, created through pg_tle and updated
# with ALTER EXTENSION (the paths install_pgtle.sql registers), is the same
# extension as a fresh install of this one: functions (bodies, settings,
# results, comments, privileges), relations and extension members.
# (upgrade_check.extension_objects(): the same listing extension_upgrade
# compares for the native edition.)
objects_sql="SELECT * FROM upgrade_check.extension_objects('nezuko_analytics_sql') ORDER BY 1, 2, 3"
sup -d postgres -c "CREATE DATABASE nz_upgrade OWNER app_owner" >/dev/null && sup -d nz_upgrade -c "CREATE EXTENSION pg_tle" >/dev/null || exit 1
upg() { psql -qXAt -v ON_ERROR_STOP=1 -U app_owner -d nz_upgrade "$@"; }
upg -f build/portable/install_pgtle.sql -c "CREATE SCHEMA upgrade_check" -f test/lib/extension_objects.sql >/dev/null
upg -c "CREATE EXTENSION nezuko_analytics_sql" -c "$objects_sql" >"$work/objects_fresh"
upg -c "DROP EXTENSION nezuko_analytics_sql CASCADE"
earlier=()
while IFS= read -r v; do [[ -n "$v" && "$v" != "$version" ]] && earlier+=("$v"); done \
    < <(ls sql/versions/nezuko_analytics_sql--*.sql 2>/dev/null | sed 's/.*--\(.*\)\.sql$/\1/' | sort -V)
check_eq "earlier portable versions to update from (sql/versions/nezuko_analytics_sql--*.sql)" "t" \
    "$( (( ${#earlier[@]} > 0 )) && (( $(wc -l <"$work/objects_fresh") > 80 )) && echo t)"
for v in "${earlier[@]}"; do
    got="$(upg -c "CREATE EXTENSION nezuko_analytics_sql VERSION '$v'" -c "ALTER EXTENSION nezuko_analytics_sql UPDATE" \
               -c "SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics_sql'" 2>&1)"
    check_eq "ALTER EXTENSION nezuko_analytics_sql UPDATE takes $v to $version through pg_tle" "$version" "$got"
    upg -c "$objects_sql" >"$work/objects_from_$v"
    check_eq "the portable edition updated from $v is the same as a fresh $version" "" \
        "$(diff "$work/objects_fresh" "$work/objects_from_$v" | head -20)"
    upg -c "DROP EXTENSION nezuko_analytics_sql CASCADE"
done

# 2. apply_schema as app_owner: the bot's existing tables, closed to the API roles.
out="$(app -c "SELECT * FROM nezuko_analytics.apply_schema()" 2>&1)"
check_match "apply_schema() as app_owner completes the bot's existing tables" "registered retention policy" "$out"
check_eq "apply_schema() leaves row-level security on what it created for the API roles" "t" \
    "$(app -c "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.api_call_log'::regclass")"
check_eq "the dashboard's functions are granted to the API roles" "t|t|t" \
    "$(app -c "SELECT bool_and(has_function_privilege('anon', f, 'EXECUTE')), bool_and(has_function_privilege('authenticated', f, 'EXECUTE')), bool_and(has_function_privilege('service_role', f, 'EXECUTE')) FROM nezuko_analytics.dashboard_functions() f")"

# 3. The same API: names, arguments, defaults, results, volatility, comments
# present, and privileges (the owner's name aside), minus what needs C and
# the portable edition's own helpers.
api_sql="SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' || pg_get_function_result(p.oid)
                || ' ' || p.provolatile::text || p.proparallel::text || ' comment:' || (obj_description(p.oid, 'pg_proc') IS NOT NULL)
                || ' acl:' || coalesce(replace(replace(p.proacl::text, 'app_owner', 'OWNER'), 'postgres', 'OWNER'), 'default')
         FROM pg_proc p WHERE p.pronamespace = 'nezuko_analytics'::regnamespace AND p.prokind IN ('f', 'p')
         ORDER BY 1"
native_only="latency_dist|latency_bucket_counts|hourly_status_counts|verification_summary|api_summary|native_|latency_read|time_led_index|has_time_latency_index|tz_offsets|^percentile\(|^percentiles\(|^count\(|^mean\(|^merge\(|checked_latency_edges|percentile_of_counts|local_shift_sql|recent_totals_sql|status_counts_sql|window_slice|slices_sql|window_group_sample|window_top_group|top_groups_by_index|has_group_time_index|day_read_sql|window_day|window_hour|window_local_bins|_pass\(|rollup|time_floor|time_ceil|use_rollups|quarter_hours|time_ranges_condition|_counts_raw"
sup -d nz_native -c "$api_sql" | grep -vE "$native_only" >"$work/api_native"
app -c "$api_sql" | grep -vE "$native_only" >"$work/api_portable"
check_eq "the shared API lists hold the functions ($(wc -l <"$work/api_native" | tr -d ' ') of them)" "t" "$( (( $(wc -l <"$work/api_native") > 60 )) && echo t)"
check_eq "the shared API is the same in both editions (signatures, defaults, results, privileges)" "" \
    "$(diff "$work/api_native" "$work/api_portable" | head -20)"
check_eq "every portable function has a COMMENT" "0" "$(app -c "SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'nezuko_analytics'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL")"

# 4. Every shared call answers alike (results, and SQLSTATE and message of
# errors), in the portable edition five times: with the default
# nezuko_analytics.small_window_rows, with every window read by the reads
# built for long windows (0), with every window read as a small one, and
# with every window long and its top groups read by the group index
# (nezuko_analytics_sql.top_groups_by_index on), or never (off).
sup -d nz_native -f test/portable/edition_calls.sql >"$work/calls_native" 2>"$work/calls_native.err"
n_calls="$(wc -l <"$work/calls_native")"
n_errors="$(grep -c ' => ERROR' "$work/calls_native")"
for small in default 0 999999999 0:on 0:off; do
    opts=""; [[ "$small" == default ]] || opts="-c nezuko_analytics.small_window_rows=${small%%:*}"
    [[ "$small" == *:* ]] && opts+=" -c nezuko_analytics_sql.top_groups_by_index=${small#*:}"
    PGOPTIONS="$opts" app -f test/portable/edition_calls.sql >"$work/calls_portable_$small" 2>"$work/calls_portable_$small.err"
    check_match "the differential calls ran in both databases (${n_calls} calls, ${n_errors} of them errors; small_window_rows $small)" "^[0-9]{3,}$" \
        "$( (( n_calls > 300 && n_errors > 15 )) && [[ ! -s "$work/calls_native.err" && ! -s "$work/calls_portable_$small.err" ]] && echo "$n_calls")"
    differ=0
    while IFS= read -r line_n && IFS= read -r line_p <&3; do
        [[ "$line_n" == "$line_p" ]] || { differ=$((differ + 1)); (( differ <= 5 )) && printf '#   native:   %.400s\n#   portable: %.400s\n' "$line_n" "$line_p"; }
    done <"$work/calls_native" 3<"$work/calls_portable_$small"
    check_eq "every call of the native edition answers the same in the portable edition (small_window_rows $small)" "0 differences" "$differ differences"
done
[[ -n "${NZ_PORTABLE_KEEP:-}" ]] && cp "$work"/calls_* "$NZ_PORTABLE_KEEP"/  # for a closer look
# Both ways were taken: some windows of the calls hold more rows than the
# default limit, some fewer; a limit that is no number is a clear error.
# With a scale (get_user_growth's), the 40,000 rows of the long window are
# estimated under 15 times the limit, and over 15 times a limit of 100.
check_eq "the calls' windows are small and large under the default small_window_rows, scaled too; a bad setting is an error" "t|t|t|f|22023" \
    "$(app -c "SELECT bool_or(nezuko_analytics.window_is_small(nezuko_analytics.bot_schema(), 'verification_log', at - interval '7 days', at)),
                      bool_or(NOT nezuko_analytics.window_is_small(nezuko_analytics.bot_schema(), 'verification_log', at - interval '500 days', at + interval '10 days')),
                      bool_or(nezuko_analytics.window_is_small(nezuko_analytics.bot_schema(), 'verification_log', at - interval '500 days', at + interval '10 days',
                                                               nezuko_analytics.user_growth_small_scale()))
               FROM nz_edition.anchor" \
           -c "SET nezuko_analytics.small_window_rows = 100" \
           -c "SELECT nezuko_analytics.window_is_small(nezuko_analytics.bot_schema(), 'verification_log', at - interval '500 days', at + interval '10 days',
                                                       nezuko_analytics.user_growth_small_scale()) FROM nz_edition.anchor" \
           -c "SET nezuko_analytics.small_window_rows = 'lots'" \
           -c "DO \$\$BEGIN PERFORM nezuko_analytics.get_user_growth('7d'); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLSTATE; END\$\$" 2>&1 | sed 's/^NOTICE: *//' | paste -sd'|')"
# The top groups by the group index (window_top_groups.sql): the sample's
# cuts ascend and its shares are fractions; the index reads give the plain
# count's top groups, ties and all, in windows long and short; auto takes
# the index over most of the table but not over a week; a bad setting is a
# clear error.  (The calls' data has 300 groups: the top 3 hold about 16 %
# of the rows, the top 10 about 26 %.)
check_eq "window_group_sample() cuts and shares; the top groups by the index equal a plain count; auto chooses; a bad setting is an error" \
    "t|t|t|t|f|22023" \
    "$(app -c "WITH w(since, until, top) AS (
                    SELECT at - interval '500 days', at + interval '10 days', 3 FROM nz_edition.anchor
                    UNION ALL SELECT at - interval '30 days', at, 10 FROM nz_edition.anchor
                    UNION ALL SELECT at - interval '7 days', at - interval '1 day', 1000 FROM nz_edition.anchor
                    UNION ALL SELECT '2300-01-01', '2300-02-01', 5),
                    s AS (SELECT w.*, (nezuko_analytics.window_group_sample(nezuko_analytics.bot_schema(), w.since, w.until, w.top)).* FROM w),
                    plain AS (SELECT w.since, coalesce(array_agg(ARRAY[t.group_id, t.n, t.verified] ORDER BY t.n DESC, t.group_id)
                                                                FILTER (WHERE t.group_id IS NOT NULL), '{}') AS top
                              FROM w LEFT JOIN LATERAL (
                                  SELECT coalesce(v.group_id, 0) AS group_id, count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified
                                  FROM public.verification_log v WHERE v.\"timestamp\" >= w.since AND v.\"timestamp\" < w.until AND isfinite(v.\"timestamp\")
                                  GROUP BY 1 ORDER BY n DESC, 1 LIMIT w.top) t ON true GROUP BY w.since),
                    by_index AS (SELECT s.since, coalesce(array_agg(ARRAY[c.group_id, c.n, coalesce(v.verified, 0)] ORDER BY c.n DESC, c.group_id)
                                                                     FILTER (WHERE c.group_id IS NOT NULL), '{}') AS top
                                 FROM s LEFT JOIN LATERAL nezuko_analytics.window_top_group_counts(nezuko_analytics.bot_schema(), s.since, s.until, s.top, s.splits) c ON true
                                 LEFT JOIN LATERAL (SELECT x.verified FROM nezuko_analytics.window_top_group_verified(
                                         nezuko_analytics.bot_schema(), ARRAY[c.group_id],
                                         nezuko_analytics.window_slices(nezuko_analytics.bot_schema(), 'verification_log', s.since, s.until)) x) v ON true
                                 GROUP BY s.since)
               SELECT (SELECT bool_and(splits IS NULL OR (cardinality(splits) = nezuko_analytics.window_slice_count() - 1
                                                          AND (SELECT bool_and(splits[i] <= splits[i + 1]) FROM generate_series(1, cardinality(splits) - 1) i)))
                              AND bool_and(since > '2299-01-01' OR (top_share > 0 AND top_share <= 1 AND window_share > 0 AND window_share <= 1)) FROM s),
                      (SELECT bool_and(p.top = b.top) AND count(*) = 4 AND sum(cardinality(p.top)) > 10 FROM plain p JOIN by_index b USING (since)),
                      (SELECT nezuko_analytics.top_groups_by_index(window_share, top_share, nezuko_analytics.has_group_time_index(nezuko_analytics.bot_schema())) FROM s WHERE top = 3),
                      (SELECT bool_and(s.window_share IS NULL) FROM s WHERE since > '2299-01-01'),
                      (SELECT nezuko_analytics.top_groups_by_index(window_share, top_share, nezuko_analytics.has_group_time_index(nezuko_analytics.bot_schema())) FROM s WHERE top = 1000)" \
           -c "SET nezuko_analytics_sql.top_groups_by_index = 'sometimes'" \
           -c "DO \$\$BEGIN PERFORM nezuko_analytics.dashboard(now() - interval '400 days', now(), 'UTC'); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLSTATE; END\$\$" 2>&1 | sed 's/^NOTICE: *//' | paste -sd'|')"
check_eq "has_group_time_index(): the schema's index yes; time first, a predicate, the time only included: no; (group_id, timestamp, id): yes" \
    "t|f|f|f|t" \
    "$(app -c "SELECT nezuko_analytics.has_group_time_index(nezuko_analytics.bot_schema())" \
           -c "BEGIN" -c "CREATE SCHEMA nz_no_index" -c "CREATE TABLE nz_no_index.verification_log (id bigint, group_id bigint, \"timestamp\" timestamptz)" \
           -c "CREATE INDEX ON nz_no_index.verification_log (\"timestamp\", group_id)" \
           -c "SELECT nezuko_analytics.has_group_time_index('nz_no_index')" \
           -c "CREATE INDEX ON nz_no_index.verification_log (group_id, \"timestamp\") WHERE group_id < 0" \
           -c "SELECT nezuko_analytics.has_group_time_index('nz_no_index')" \
           -c "CREATE INDEX ON nz_no_index.verification_log (group_id) INCLUDE (\"timestamp\")" \
           -c "SELECT nezuko_analytics.has_group_time_index('nz_no_index')" \
           -c "CREATE INDEX ON nz_no_index.verification_log (group_id, \"timestamp\", id)" \
           -c "SELECT nezuko_analytics.has_group_time_index('nz_no_index')" -c "ROLLBACK" | paste -sd'|')"
check_eq "the dashboard's windows hold rows (the comparison is not of empty documents)" "t" \
    "$(app -c "SELECT (nezuko_analytics.dashboard(at - interval '30 days', at, 'Asia/Kathmandu')->'totals'->>'verifications')::int > 5000 FROM nz_edition.anchor")"

# 4b. The summaries read a window slice by slice (window_slices(),
# docs/portable.md): the bounds cover the window once, and the documents are
# the same whether parallel workers share the slices or one process reads them.
check_eq "window_slices() covers a window once: since, nondecreasing cuts, until (with rows, all time, no rows)" "t|t|t" \
    "$(app -c "WITH w(since, until) AS (VALUES ((SELECT at - interval '30 days' FROM nz_edition.anchor), (SELECT at FROM nz_edition.anchor)),
                                             ('-infinity'::timestamptz, 'infinity'::timestamptz),
                                             ('2300-01-01'::timestamptz, '2300-02-01'::timestamptz)),
                    b AS (SELECT w.since, w.until, nezuko_analytics.window_slices(nezuko_analytics.bot_schema(), 'verification_log', w.since, w.until) AS b FROM w)
               SELECT bool_and(b[1] = since AND b[cardinality(b)] = until
                               AND cardinality(b) = CASE WHEN since > '2299-01-01' THEN 2 ELSE nezuko_analytics.window_slice_count() + 1 END
                               AND (SELECT bool_and(b[i] <= b[i + 1]) FROM generate_series(1, cardinality(b) - 1) i)),
                      bool_and(cardinality(b) = 2 OR (SELECT bool_and(isfinite(b[i])) FROM generate_series(2, cardinality(b) - 1) i)),
                      count(*) = 3
               FROM b")"
# The reads by local day take one branch per day (window_days()): every row
# of a window falls in one day whose label is the row's local date in the
# zone, across a change of offset too; a window whose rows span more than
# window_day_limit() days is left to the time slices (NULL).
check_eq "window_days() places every row of a window in its local day (3 zones, a DST change; all time: NULL; no rows: one day)" \
    "t|t|t|t|t" \
    "$(app -c "WITH w(since, until, tz) AS (
                    VALUES ((SELECT at - interval '30 days' FROM nz_edition.anchor), (SELECT at FROM nz_edition.anchor), 'Asia/Kathmandu'),
                           ((SELECT at - interval '40 days' FROM nz_edition.anchor), (SELECT at - interval '20 days' FROM nz_edition.anchor), 'America/New_York'),
                           ((SELECT at - interval '10 days 7 hours' FROM nz_edition.anchor), (SELECT at + interval '3 days' FROM nz_edition.anchor), 'Australia/Eucla')),
                    d AS (SELECT w.*, (nezuko_analytics.window_days(nezuko_analytics.bot_schema(), w.since, w.until,
                                                                    nezuko_analytics.window_tz_offsets(w.since, w.until, w.tz))).* FROM w),
                    placed AS (SELECT d.tz, v.\"timestamp\" AS at,
                                      (SELECT count(*) FROM generate_series(1, cardinality(d.bounds) - 1) j
                                       WHERE v.\"timestamp\" >= d.bounds[j] AND v.\"timestamp\" < d.bounds[j + 1]
                                         AND (d.local_days[j] AT TIME ZONE 'UTC')::date = (v.\"timestamp\" AT TIME ZONE d.tz)::date) AS days
                               FROM d JOIN public.verification_log v ON v.\"timestamp\" >= d.since AND v.\"timestamp\" < d.until
                                                                    AND isfinite(v.\"timestamp\"))
               SELECT (SELECT bool_and(bounds[1] = since AND bounds[cardinality(bounds)] = until AND cardinality(local_days) = cardinality(bounds) - 1
                                       AND (SELECT bool_and(bounds[i] < bounds[i + 1]) FROM generate_series(1, cardinality(bounds) - 1) i)) FROM d),
                      (SELECT bool_and(days = 1) AND count(*) > 1000 AND count(DISTINCT tz) = 3 FROM placed),
                      (SELECT bool_or(cardinality(local_days) > (SELECT count(DISTINCT x) FROM unnest(local_days) x)) FROM d),
                      (SELECT (nezuko_analytics.window_days(nezuko_analytics.bot_schema(), '-infinity', 'infinity',
                                                            nezuko_analytics.window_tz_offsets('-infinity', 'infinity', 'UTC'))).bounds IS NULL),
                      (SELECT d.bounds = ARRAY['2300-01-01', '2300-02-01']::timestamptz[] AND d.local_days = ARRAY[NULL]::timestamptz[]
                       FROM nezuko_analytics.window_days(nezuko_analytics.bot_schema(), '2300-01-01', '2300-02-01',
                                                         nezuko_analytics.window_tz_offsets('2300-01-01', '2300-02-01', 'UTC')) d)")"
# The read by local hour takes the hours of window_local_bins() (a width of
# 1 hour; window_hour_counts()): every row of a window falls in one bin whose
# label is the row's local hour in the zone (on the hour), across a change of
# offset too; all time is left to the time slices (NULL); a width other than
# an hour or a day is an error.
check_eq "window_local_bins() by the hour places every row of a window in its local hour (3 zones, a DST change; all time: NULL; a bad width: 22023)" \
    "t|t|t|t|22023" \
    "$(app -c "WITH w(since, until, tz) AS (
                    VALUES ((SELECT at - interval '30 days' FROM nz_edition.anchor), (SELECT at FROM nz_edition.anchor), 'Asia/Kathmandu'),
                           ((SELECT at - interval '40 days' FROM nz_edition.anchor), (SELECT at - interval '20 days' FROM nz_edition.anchor), 'America/New_York'),
                           ((SELECT at - interval '10 days 7 hours' FROM nz_edition.anchor), (SELECT at + interval '3 days' FROM nz_edition.anchor), 'Australia/Eucla')),
                    d AS (SELECT w.*, (nezuko_analytics.window_local_bins(nezuko_analytics.bot_schema(), w.since, w.until,
                                                                          nezuko_analytics.window_tz_offsets(w.since, w.until, w.tz), '1 hour')).* FROM w),
                    placed AS (SELECT d.tz, v.\"timestamp\" AS at,
                                      (SELECT count(*) FROM generate_series(1, cardinality(d.bounds) - 1) j
                                       WHERE v.\"timestamp\" >= d.bounds[j] AND v.\"timestamp\" < d.bounds[j + 1]
                                         AND d.labels[j] AT TIME ZONE 'UTC' = date_trunc('hour', v.\"timestamp\" AT TIME ZONE d.tz)) AS hours
                               FROM d JOIN public.verification_log v ON v.\"timestamp\" >= d.since AND v.\"timestamp\" < d.until
                                                                    AND isfinite(v.\"timestamp\"))
               SELECT (SELECT bool_and(bounds[1] = since AND bounds[cardinality(bounds)] = until AND cardinality(labels) = cardinality(bounds) - 1
                                       AND cardinality(labels) > 24 * 10
                                       AND (SELECT bool_and(bounds[i] < bounds[i + 1]) FROM generate_series(1, cardinality(bounds) - 1) i)) FROM d),
                      (SELECT bool_and(hours = 1) AND count(*) > 1000 AND count(DISTINCT tz) = 3 FROM placed),
                      (SELECT bool_and((SELECT bool_and(date_trunc('hour', x AT TIME ZONE 'UTC') = x AT TIME ZONE 'UTC') FROM unnest(labels) x)) FROM d),
                      (SELECT (nezuko_analytics.window_local_bins(nezuko_analytics.bot_schema(), '-infinity', 'infinity',
                                                                  nezuko_analytics.window_tz_offsets('-infinity', 'infinity', 'UTC'), '1 hour')).bounds IS NULL)" \
           -c "DO \$\$BEGIN PERFORM nezuko_analytics.window_local_bins('public', now() - interval '1 day', now(), '{}', '15 minutes');
               EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLSTATE; END\$\$" 2>&1 | sed 's/^NOTICE: *//' | paste -sd'|')"
# get_user_growth counts distinct users read by read (user_growth_bounds(),
# shared by both editions): no bucket may have rows in two reads, and a read
# that names its bucket holds that bucket's rows only, by date_trunc() in the
# session's zone (a DST change inside the window; days, weeks, long windows
# whose buckets go several to a read).
growth_reads=""
for zone in America/New_York Asia/Kathmandu UTC; do
    growth_reads+="$(app -c "SET TimeZone = '$zone'" -c "
        WITH w(since, until, unit) AS (
                 SELECT at - interval '40 days', at - interval '20 days', u FROM nz_edition.anchor, unnest(ARRAY['day', 'week']) u
                 UNION ALL SELECT at - interval '30 days', at + interval '3 days', 'day' FROM nz_edition.anchor
                 UNION ALL SELECT at - interval '500 days', at + interval '10 days', 'day' FROM nz_edition.anchor),
             r AS (SELECT w.*, (nezuko_analytics.user_growth_bounds(nezuko_analytics.bot_schema(), w.since, w.until, w.unit)).* FROM w),
             placed AS (SELECT r.since, r.unit, date_trunc(r.unit, v.\"timestamp\") AS bucket, j,
                               r.buckets[j] IS NULL OR r.buckets[j] = date_trunc(r.unit, v.\"timestamp\") AS named_right
                        FROM r JOIN public.verification_log v ON v.\"timestamp\" >= r.since AND v.\"timestamp\" < r.until
                        CROSS JOIN LATERAL (SELECT j FROM generate_series(1, cardinality(r.bounds) - 1) j
                                            WHERE v.\"timestamp\" >= r.bounds[j] AND v.\"timestamp\" < r.bounds[j + 1]) x)
        SELECT (SELECT bool_and(bounds[1] = since AND bounds[cardinality(bounds)] = until AND cardinality(buckets) = cardinality(bounds) - 1
                                AND cardinality(bounds) <= nezuko_analytics.user_growth_branches() + 1) FROM r)
               AND (SELECT count(*) FROM placed) = (SELECT count(*) FROM r JOIN public.verification_log v ON v.\"timestamp\" >= r.since AND v.\"timestamp\" < r.until)
               AND (SELECT bool_and(named_right) FROM placed)
               AND NOT EXISTS (SELECT FROM placed GROUP BY since, unit, bucket HAVING count(DISTINCT j) > 1)
               AND (SELECT count(*) FILTER (WHERE b IS NOT NULL) > 20 AND count(*) FILTER (WHERE b IS NULL) > 4 FROM r, unnest(r.buckets) b)")"
done
check_eq "user_growth_bounds() gives every bucket of a window to one read (3 zones, a DST change, days, weeks, a long window)" \
    "ttt" "$growth_reads"
slice_calls="SELECT nezuko_analytics.dashboard(at - interval '30 days', at, 'Asia/Kathmandu')::text FROM nz_edition.anchor;
SELECT nezuko_analytics.dashboard('-infinity', 'infinity', 'America/St_Johns')::text;
SELECT nezuko_analytics.window_summary(at - interval '9 days', at - interval '2 hours', 'Europe/Berlin', 5, at - interval '3 days')::text FROM nz_edition.anchor;
SELECT nezuko_analytics.day_summary(at - interval '20 days', at, 'Australia/Eucla', at - interval '1 day', true)::text FROM nz_edition.anchor;
SELECT nezuko_analytics.api_window_summary(nezuko_analytics.bot_schema(), '-infinity', 'infinity')::text;"
# (read as windows of any size: a small one is one slice, window_is_small();
# the parallel run reads the top groups by the group index, the serial one
# by every row)
serial="$(app -c "SET max_parallel_workers_per_gather = 0" -c "SET nezuko_analytics.small_window_rows = 0" \
              -c "SET nezuko_analytics_sql.top_groups_by_index = off" -c "$slice_calls" 2>&1)"
parallel="$(sup -d nz_portable -c "SET nezuko_analytics.small_window_rows = 0" -c "SET nezuko_analytics_sql.top_groups_by_index = on" -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" -c "SET auto_explain.log_nested_statements = on" \
                -c "SET auto_explain.log_analyze = on" -c "SET client_min_messages = log" -c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" \
                -c "$slice_calls" 2>"$work/slice_plans")"
check_eq "the parallel reads ran: Parallel Appends of the slices, with workers" "t" \
    "$( (( $(grep -c 'Parallel Append' "$work/slice_plans") >= 5 && $(grep -c 'Workers Launched: [1-9]' "$work/slice_plans") >= 5 )) && echo t)"
check_eq "the local hours were read hour by hour: window_hour_counts() calls, six to a window" "t" \
    "$( (( $(grep -c 'Function Scan on window_hour_counts' "$work/slice_plans") >= 12 )) && echo t)"
check_eq "the top groups were read by the group index: its index-only ranges and its bitmaps" "t" \
    "$( (( $(grep -c 'Index Only Scan using idx_verification_log_group_id_timestamp' "$work/slice_plans") >= 5 \
           && $(grep -c 'Bitmap Index Scan on idx_verification_log_group_id_timestamp' "$work/slice_plans") >= 5 )) && echo t)"
check_eq "the summaries are the same read in parallel and by one process (5 documents)" "5|t" \
    "$(printf '%s' "$parallel" | wc -l | awk '{print $1 + 1}')|$( [[ -n "$serial" && "$serial" == "$parallel" ]] && echo t)"

# The fixed-window counts run in one process (their SET clause), even where
# the planner is told parallel workers cost nothing; the count over a window
# of any length still plans them.  (auto_explain logs each nested plan; the
# bot's schema is given as a name, since bot_schema()'s own small query would
# plan workers here too.)
workers_planned() {
    sup -d nz_portable -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
        -c "SET auto_explain.log_nested_statements = on" -c "SET client_min_messages = log" \
        -c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" -c "SET min_parallel_table_scan_size = 0" \
        -c "SET min_parallel_index_scan_size = 0" -c "$1" 2>&1 >/dev/null | grep -c 'Workers Planned: [1-9]'
}
check_eq "the fixed-window counts plan no parallel workers (verification, API, groups); the any-length count does" "0|0|0|t" \
    "$(workers_planned "SELECT * FROM nezuko_analytics.verification_counts('public', '-infinity', 'infinity', 'infinity', true, true, true)")|$(
       workers_planned "SELECT * FROM nezuko_analytics.api_counts('public', '-infinity', 'infinity')")|$(
       workers_planned "SELECT * FROM nezuko_analytics.group_counts('public', '-infinity', 'infinity', 10)")|$(
       (( $(workers_planned "SELECT * FROM nezuko_analytics.verification_counts_scan('public', '-infinity', 'infinity', 'infinity', true, true, true)") >= 1 )) && echo t)"

# 5. The period contracts against the plain-SQL reference, in one snapshot.
# (The reference, like the bot's originals, has no upper bound and so counts
# a row stamped 'infinity'; the contracts read "timestamp" < 'infinity'.  That
# row was compared above; it leaves before this comparison.)
app -f test/reference/contracts_reference.sql >/dev/null 2>&1
app -c "DELETE FROM public.verification_log WHERE \"timestamp\" = 'infinity'" >/dev/null
out="$(app <<'SQL' 2>&1
CREATE TEMP TABLE calls (call text);
INSERT INTO calls VALUES ('get_dashboard_stats()'), ('get_verification_distribution()'), ('get_cache_breakdown()'),
    ('get_api_calls_distribution()'), ('get_hourly_activity()'), ('get_members_chart_data()'), ('get_groups_status()'),
    ('get_bot_health()'), ('get_top_groups()'), ('get_top_groups(3)'), ('get_analytics_overview()'), ('get_user_growth()');
INSERT INTO calls SELECT format('%s(%L)', f, p)
FROM unnest(ARRAY['get_latency_distribution', 'get_latency_trend', 'get_cache_hit_rate_trend', 'get_verification_trends',
                  'get_analytics_overview', 'get_user_growth']) f, unnest(ARRAY['24h', '7d', '30d', '90d', 'bogus']) p;
INSERT INTO calls SELECT format('get_user_growth(%L, %L)', p, g) FROM unnest(ARRAY['7d', '90d']) p, unnest(ARRAY['week', 'fortnight']) g;
CREATE FUNCTION pg_temp.same(tz text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE c record; n jsonb; r jsonb;
BEGIN
    PERFORM set_config('TimeZone', tz, true);
    FOR c IN SELECT call FROM calls LOOP
        EXECUTE 'SELECT nezuko_analytics.' || c.call || '::jsonb' INTO n;
        EXECUTE 'SELECT nz_contracts.' || c.call || '::jsonb' INTO r;
        IF n IS DISTINCT FROM r THEN RETURN NEXT tz || ' ' || c.call; END IF;
    END LOOP;
END $$;
BEGIN;
SELECT count(*) FROM calls;
SELECT coalesce(string_agg(d, ', '), 'none') FROM (SELECT pg_temp.same('UTC') d UNION ALL SELECT pg_temp.same('Asia/Kolkata')
                                                   UNION ALL SELECT pg_temp.same('America/St_Johns')) x;
COMMIT;
SQL
)"
check_eq "every contract and period equals the reference in three time zones" "$(printf '46\nnone')" "$out"

# 6. Row-level security and the API roles, as on Supabase.
out="$(app -c "SET ROLE anon" -c "SELECT nezuko_analytics.get_verification_distribution()" 2>&1)"
check_eq "anon sees no row through the contracts (row-level security)" '{"verified" : 0, "restricted" : 0, "error" : 0, "total" : 0}' "$out"
out="$(app -c "SET ROLE service_role" -c "SELECT (nezuko_analytics.get_verification_distribution()->>'total')::int > 0" 2>&1)"
check_eq "service_role (BYPASSRLS) sees the rows" "t" "$out"

# 7. Retention as app_owner, and its refusal for a role that does not own the tables.
# add_expired_rows: 300 API calls 400 days old, past any policy below
add_expired_rows() {
    app -c "INSERT INTO public.api_call_log (method, \"timestamp\") SELECT 'old', now() - interval '400 days' - g * interval '1 minute' FROM generate_series(1, 300) g" >/dev/null
}
add_expired_rows
out="$(app -c "SELECT nezuko_analytics.set_retention('api_call_log', '200 days')" -c "CALL nezuko_analytics.prune(100)" \
           -c "SELECT count(*) FROM public.api_call_log WHERE method = 'old'" 2>&1 | tail -1)"
check_eq "CALL prune() as the tables' owner deletes the expired rows in batches" "0" "$out"
sup -d nz_portable -c "GRANT USAGE ON SCHEMA nezuko_analytics TO nz_reader" -c "GRANT SELECT, DELETE ON public.api_call_log TO nz_reader" \
   -c "GRANT EXECUTE ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) TO nz_reader" >/dev/null
out="$(psql -qXAt -U nz_reader -d nz_portable -c "SELECT nezuko_analytics.prune_batch('public.api_call_log', 'timestamp', now(), 10, true)" 2>&1)"
check_match "prune_batch() refuses a role that does not own the table (no privilege boundary crossed)" \
    "the portable edition deletes as the role that runs prune\(\), and nz_reader does not own table public.api_call_log" "$out"

# 8. pg_cron runs the job as app_owner (pg_cron's database is this one).
add_expired_rows
out="$(app -c "SELECT nezuko_analytics.schedule_retention('* * * * *') > 0" 2>&1)"
check_eq "schedule_retention() as app_owner schedules the job with pg_cron" "t" "$out"
left=300
for _ in $(seq 1 80); do
    left="$(app -c "SELECT count(*) FROM public.api_call_log WHERE method = 'old'")"
    [[ "$left" == 0 ]] && break
    sleep 1
done
check_eq "the pg_cron job (run as app_owner) pruned the expired rows" "0" "$left"
check_eq "the job's run is logged as succeeded, as app_owner" "succeeded|app_owner" \
    "$(sup -d nz_portable -c "SELECT d.status || '|' || j.username FROM cron.job_run_details d JOIN cron.job j USING (jobid) ORDER BY d.start_time DESC LIMIT 1")"
app -c "SELECT nezuko_analytics.unschedule_retention()" >/dev/null

# 9. revert_schema and DROP EXTENSION keep the bot's rows.
before="$(app -c "SELECT count(*) FROM public.verification_log")"
app -c "SELECT count(*) FROM nezuko_analytics.revert_schema()" -c "DROP EXTENSION nezuko_analytics_sql" >/dev/null 2>&1
check_eq "revert_schema() and DROP EXTENSION keep every row of the bot" "$before" "$(app -c "SELECT count(*) FROM public.verification_log")"
out="$(app -c "CREATE EXTENSION nezuko_analytics_sql" -c "SELECT count(*) > 0 FROM nezuko_analytics.apply_schema()" 2>&1 | tail -1)"
check_eq "the edition installs and applies again after that" "t" "$out"

# 10. pg_dump and pg_restore: the registration travels with the database
# (pg_tle keeps it in the database), the extension is created again, the
# bot's rows and the extension's bookkeeping come back once.
# (pg_cron can live in one database only, Supabase's postgres: it leaves first.)
sup -d nz_portable -c "DROP EXTENSION pg_cron" >/dev/null
dump="$dir/nz_portable.dump"
as_pg pg_dump -h "$dir" -p 54336 -U postgres -Fc -f "$dump" nz_portable || fail "pg_dump of the portable database"
sup -d postgres -c "CREATE DATABASE nz_restored OWNER app_owner" >/dev/null
# restored by the platform (a superuser), as a dump of the native edition is
as_pg pg_restore -h "$dir" -p 54336 -U postgres -d nz_restored "$dump" >"$work/restore.log" 2>&1
check_eq "pg_restore of the portable database reports no error" "" "$(grep -i 'error' "$work/restore.log" | head -3)"
check_eq "the restored database has the edition, the bot's rows and the schema record" \
    "nezuko_analytics_sql|$(app -c "SELECT count(*) FROM public.verification_log")|$(app -c "SELECT count(*) FROM nezuko_analytics.schema_changes")" \
    "$(sup -d nz_restored -c "SELECT (SELECT extname FROM pg_extension WHERE extname LIKE 'nezuko%') || '|' || (SELECT count(*) FROM public.verification_log) || '|' || (SELECT count(*) FROM nezuko_analytics.schema_changes)" 2>&1)"
check_eq "the restored edition answers as the original" \
    "$(app -c "SELECT nezuko_analytics.dashboard(at - interval '30 days', at, 'UTC')::text FROM nz_edition.anchor" | md5sum)" \
    "$(sup -d nz_restored -c "SELECT nezuko_analytics.dashboard(at - interval '30 days', at, 'UTC')::text FROM nz_edition.anchor" 2>&1 | md5sum)"

# 11. The bot's side: the Alembic migration picks the portable edition where
# the native one is refused, and Analytics works on it unchanged.
out="$(cd python && NZ_PGTLE_SERVER=1 /usr/bin/python3 -m pytest -q tests/test_portable_edition.py 2>&1)"
check_match "the migration falls back to nezuko_analytics_sql and Analytics works on it (pytest)" "^2 passed" \
    "$(grep -E '[0-9]+ (passed|failed|skipped|error)' <<<"$out" | tail -1)"
grep -q "2 passed" <<<"$out" || echo "$out" | tail -30 | sed 's/^/#   /'

checks_summary portable
