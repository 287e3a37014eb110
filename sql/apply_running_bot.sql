-- Starting point (b): the bot's running database.  The base tables exist with
-- rows, a trigger, row-level security and one of the spec's columns already
-- (member_count integer NOT NULL DEFAULT 0 with a CHECK).  apply_schema() adds
-- only what is missing, redefines nothing and loses no row.
\set SHOW_CONTEXT never
CREATE SCHEMA bot;
CREATE TABLE bot.protected_groups (group_id bigint PRIMARY KEY, owner_id bigint, title varchar(255),
    enabled boolean NOT NULL DEFAULT true, params jsonb, created_at timestamptz, updated_at timestamptz,
    member_count integer NOT NULL DEFAULT 0 CONSTRAINT member_count_non_negative CHECK (member_count >= 0));
CREATE TABLE bot.enforced_channels (channel_id bigint PRIMARY KEY, title varchar(255), username varchar(64),
    invite_link text, created_at timestamptz, updated_at timestamptz);
CREATE TABLE bot.group_channel_links (id serial PRIMARY KEY,
    group_id bigint REFERENCES bot.protected_groups, channel_id bigint REFERENCES bot.enforced_channels,
    is_required boolean DEFAULT true, created_at timestamptz, UNIQUE (group_id, channel_id));
CREATE TABLE bot.verification_log (id bigserial PRIMARY KEY, user_id bigint NOT NULL, group_id bigint NOT NULL,
    channel_id bigint, status varchar(20) NOT NULL, latency_ms integer, cached boolean NOT NULL DEFAULT false,
    "timestamp" timestamptz NOT NULL DEFAULT now());
CREATE INDEX vl_ts ON bot.verification_log ("timestamp");
CREATE INDEX vl_ts_status ON bot.verification_log ("timestamp", status);
CREATE INDEX vl_group_ts ON bot.verification_log (group_id, "timestamp");
CREATE FUNCTION bot.touch() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN NEW.updated_at := '2026-01-01 00:00:00+00'; RETURN NEW; END$$;
CREATE TRIGGER protected_groups_touch BEFORE UPDATE ON bot.protected_groups
  FOR EACH ROW EXECUTE FUNCTION bot.touch();
ALTER TABLE bot.verification_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY owner_reads ON bot.verification_log USING (true);

INSERT INTO bot.protected_groups (group_id, owner_id, title, member_count)
SELECT -1000 - g, 7, 'Group ' || g, g * 10 FROM generate_series(1, 5) g;
INSERT INTO bot.enforced_channels (channel_id, title) SELECT -2000 - g, 'Chan ' || g FROM generate_series(1, 3) g;
INSERT INTO bot.group_channel_links (group_id, channel_id) VALUES (-1001, -2001), (-1002, -2001);
INSERT INTO bot.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g, -1000 - (g % 5) - 1, (ARRAY['verified','restricted','error'])[g % 3 + 1],
       CASE WHEN g % 7 = 0 THEN NULL ELSE g * 3 END, g % 2 = 0,
       '2026-11-01 00:00:00+00'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 300) g;
CREATE TABLE before_rows AS
SELECT 'protected_groups' AS t, md5(string_agg(p::text, ',' ORDER BY group_id)) AS digest FROM bot.protected_groups p
UNION ALL SELECT 'enforced_channels', md5(string_agg(c::text, ',' ORDER BY channel_id)) FROM bot.enforced_channels c
UNION ALL SELECT 'group_channel_links', md5(string_agg(l::text, ',' ORDER BY id)) FROM bot.group_channel_links l
UNION ALL SELECT 'verification_log', md5(string_agg(v::text, ',' ORDER BY id)) FROM bot.verification_log v;

CREATE EXTENSION nezuko_analytics;
SELECT * FROM nezuko_analytics.apply_schema('bot');
SELECT * FROM nezuko_analytics.apply_schema('bot');  -- idempotent: no lines

-- member_count kept exactly as it was: NOT NULL, default 0, its CHECK.
SELECT column_name, data_type, column_default, is_nullable
FROM information_schema.columns WHERE table_schema = 'bot' AND table_name = 'protected_groups'
ORDER BY ordinal_position;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'bot.protected_groups'::regclass AND contype = 'c';

-- Every row of the original columns is unchanged (digests over the original column list).
SELECT b.t, b.digest = a.digest AS rows_unchanged FROM before_rows b JOIN (
    SELECT 'protected_groups' AS t, md5(string_agg(row(group_id, owner_id, title, enabled, params, created_at, updated_at, member_count)::text, ',' ORDER BY group_id)) AS digest FROM bot.protected_groups
    UNION ALL SELECT 'enforced_channels', md5(string_agg(row(channel_id, title, username, invite_link, created_at, updated_at)::text, ',' ORDER BY channel_id)) FROM bot.enforced_channels
    UNION ALL SELECT 'group_channel_links', md5(string_agg(l::text, ',' ORDER BY id)) FROM bot.group_channel_links l
    UNION ALL SELECT 'verification_log', md5(string_agg(row(id, user_id, group_id, channel_id, status, latency_ms, cached, "timestamp")::text, ',' ORDER BY id)) FROM bot.verification_log
) a USING (t) ORDER BY 1;

-- The trigger and row-level security are still in force; the bot's own indexes are kept.
SELECT tgname FROM pg_trigger WHERE tgrelid = 'bot.protected_groups'::regclass AND NOT tgisinternal;
SELECT relrowsecurity FROM pg_class WHERE oid = 'bot.verification_log'::regclass;
SELECT polname FROM pg_policy WHERE polrelid = 'bot.verification_log'::regclass;
SELECT indexname FROM pg_indexes WHERE schemaname = 'bot' ORDER BY 1;
UPDATE bot.protected_groups SET title = 'renamed' WHERE group_id = -1001 RETURNING updated_at;

-- New columns read NULL/default on old rows.
SELECT count(*) FILTER (WHERE error_type IS NULL) AS null_error_types FROM bot.verification_log;
SELECT DISTINCT subscriber_count FROM bot.enforced_channels;

DROP EXTENSION nezuko_analytics;
DROP SCHEMA bot CASCADE;
DROP TABLE before_rows;
