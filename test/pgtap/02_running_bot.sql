-- Starting point (b), the bot's running database: the base tables exist with
-- rows, a trigger, RLS and member_count already present (NOT NULL, CHECK).
\ir psql_settings.inc
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
\ir spec_expectations.inc
SELECT plan(1 + 13 + 13 + 7 + 10);

CREATE SCHEMA bot;
CREATE TABLE bot.protected_groups (group_id bigint PRIMARY KEY, owner_id bigint, title varchar(255),
    enabled boolean NOT NULL DEFAULT true, params jsonb, created_at timestamptz, updated_at timestamptz,
    member_count integer NOT NULL DEFAULT 0 CHECK (member_count >= 0));
CREATE TABLE bot.enforced_channels (channel_id bigint PRIMARY KEY, title varchar(255), username varchar(64),
    invite_link text, created_at timestamptz, updated_at timestamptz);
CREATE TABLE bot.group_channel_links (id serial PRIMARY KEY, group_id bigint REFERENCES bot.protected_groups,
    channel_id bigint REFERENCES bot.enforced_channels, is_required boolean DEFAULT true, created_at timestamptz,
    UNIQUE (group_id, channel_id));
CREATE TABLE bot.verification_log (id bigserial PRIMARY KEY, user_id bigint NOT NULL, group_id bigint NOT NULL,
    channel_id bigint, status varchar(20) NOT NULL, latency_ms integer, cached boolean NOT NULL DEFAULT false,
    "timestamp" timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION bot.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;
CREATE TRIGGER touch BEFORE UPDATE ON bot.protected_groups FOR EACH ROW EXECUTE FUNCTION bot.touch();
ALTER TABLE bot.verification_log ENABLE ROW LEVEL SECURITY;
INSERT INTO bot.protected_groups (group_id, title, member_count) SELECT g, 'g' || g, g FROM generate_series(1, 30) g;
INSERT INTO bot.verification_log (user_id, group_id, status, latency_ms)
SELECT g, g % 30 + 1, 'verified', g FROM generate_series(1, 1000) g;

CREATE EXTENSION nezuko_analytics;
SELECT is((SELECT count(*) FROM nezuko_analytics.apply_schema('bot'))::int, 15,
          'apply_schema on the running bot reports 15 changes (member_count already there; 3 retention policies)');

SELECT col_type_is('bot'::name, tbl, col, col_type, format('bot.%s.%s is %s', tbl, col, col_type)) FROM expected_columns;
SELECT CASE WHEN col = 'id' THEN pass('bot.api_call_log.id is a serial (checked in 01)')
            WHEN col_default IS NULL THEN col_hasnt_default('bot'::name, tbl, col, format('bot.%s.%s has no default', tbl, col))
            ELSE col_default_is('bot'::name, tbl, col, col_default, format('bot.%s.%s defaults to %s', tbl, col, col_default)) END
FROM expected_columns;
SELECT has_index('bot'::name, tbl, idx, cols, format('index %s on %s%s', idx, tbl, cols)) FROM expected_indexes;
SELECT col_not_null('bot'::name, 'protected_groups'::name, 'member_count'::name, 'member_count is still NOT NULL');
SELECT col_has_check('bot'::name, 'protected_groups'::name, 'member_count'::name, 'member_count keeps its CHECK');
SELECT has_trigger('bot'::name, 'protected_groups'::name, 'touch'::name, 'the bot''s trigger is kept');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'bot.verification_log'::regclass), 'RLS is still enabled');
SELECT is((SELECT count(*)::int FROM bot.verification_log), 1000, 'no verification_log row lost');
SELECT is((SELECT sum(member_count)::int FROM bot.protected_groups), 465, 'member_count values unchanged');
SELECT hasnt_index('bot'::name, 'verification_log'::name, 'idx_verification_log_timestamp'::name,
                   'base indexes are not added to an existing verification_log');
SELECT is_empty($$SELECT * FROM nezuko_analytics.apply_schema('bot')$$, 'a second apply_schema changes nothing');
SELECT lives_ok($$SELECT * FROM nezuko_analytics.revert_schema()$$, 'revert_schema runs');
SELECT columns_are('bot'::name, 'protected_groups'::name,
                   '{group_id,owner_id,title,enabled,params,created_at,updated_at,member_count}'::name[],
                   'after revert the pre-existing member_count is kept, the added column gone');

SELECT * FROM finish();
ROLLBACK;
