-- nezuko_analytics 1.13 -> 1.14, written by hand (docs/versions.md).  1.14
-- reads the portable edition's local hours hour by hour (its own script);
-- in both editions get_members_chart_data() loses its SET clause, so that
-- the planner inlines it into the caller's query instead of planning it
-- again on each statement (its body names every function by schema).

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.14'" to load this file. \quit

CREATE OR REPLACE FUNCTION nezuko_analytics.get_members_chart_data()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nezuko_analytics.members_chart(nezuko_analytics.bot_schema(), 10) $$;
