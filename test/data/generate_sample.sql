-- Deterministic sample data for the bot's tables (no random(): every value is
-- a hash of the row number, so a given scale always yields the same rows).
-- psql variables (all optional):
--   schema      target schema (default public)
--   vrows       verification_log rows          (default 20000)
--   arows       api_call_log rows              (default 4000)
--   groups      protected groups               (default 200)
--   days        days of history before anchor  (default 120)
--   anchor      end of the data, timestamptz   (default now())
-- Rows are in time order, as the bot inserts them.
-- Shape: latencies skewed 20-300 ms with a tail to 10 s and ~3 % NULL;
-- ~70/25/5 % verified/restricted/error; 40 % cached; groups with skew;
-- 16 API methods with getChatMember dominant and ~3 % failures.
\if :{?schema} \else \set schema public \endif
\if :{?vrows} \else \set vrows 20000 \endif
\if :{?arows} \else \set arows 4000 \endif
\if :{?groups} \else \set groups 200 \endif
\if :{?days} \else \set days 120 \endif
\if :{?anchor} \else \set anchor now() \endif

SET search_path TO :"schema";

-- u(g, salt): a uniform value in [0, 1) from the row number.
CREATE FUNCTION pg_temp.u(g bigint, salt bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(g, salt) & 16777215)::float8 / 16777216 $$;

INSERT INTO protected_groups (group_id, owner_id, title, enabled, member_count)
SELECT -1000000000000 - g, 1000 + g % 37,
       CASE WHEN g % 10 = 3 THEN NULL ELSE 'Group ' || g END,
       g % 17 <> 0,
       (50 + pg_temp.u(g, 1) * 20000)::int
FROM generate_series(1, :groups) g
ON CONFLICT (group_id) DO NOTHING;

INSERT INTO enforced_channels (channel_id, title, username, subscriber_count)
SELECT -2000000000000 - c, CASE WHEN c % 7 = 0 THEN NULL ELSE 'Channel ' || c END, 'chan' || c,
       (100 + pg_temp.u(c, 2) * 50000)::int
FROM generate_series(1, greatest(:groups / 4, 1)) c
ON CONFLICT (channel_id) DO NOTHING;

INSERT INTO group_channel_links (group_id, channel_id)
SELECT -1000000000000 - g, -2000000000000 - (1 + g % greatest(:groups / 4, 1))
FROM generate_series(1, :groups) g
ON CONFLICT DO NOTHING;

INSERT INTO verification_log (user_id, group_id, channel_id, status, latency_ms, cached, "timestamp", error_type)
SELECT 100000 + (pg_temp.u(g, 3) * 500000)::bigint,
       -- skew: low group numbers are busier
       -1000000000000 - (1 + floor(power(pg_temp.u(g, 4), 2.5) * :groups))::bigint,
       -2000000000000 - (1 + g % greatest(:groups / 4, 1)),
       s.status,
       CASE WHEN pg_temp.u(g, 5) < 0.03 THEN NULL
            WHEN pg_temp.u(g, 6) < 0.02 THEN (500 + pg_temp.u(g, 7) * 9500)::int         -- tail to 10 s
            ELSE (20 + power(pg_temp.u(g, 7), 2) * 280)::int END,                    -- skewed 20-300 ms
       pg_temp.u(g, 8) < 0.40,
       -- in time order, as the bot writes them (a few seconds of jitter)
       :'anchor'::timestamptz - (:days * 86400 * (1 - (g - 0.5) / :vrows) + 5 * pg_temp.u(g, 9)) * interval '1 second',
       CASE WHEN s.status = 'error'
            THEN (ARRAY['TelegramError','BadRequest','ChatNotFound','Forbidden','NetworkError','RetryAfter'])[1 + g % 6] END
FROM generate_series(1, :vrows) g,
     LATERAL (SELECT CASE WHEN pg_temp.u(g, 10) < 0.70 THEN 'verified'
                          WHEN pg_temp.u(g, 10) < 0.95 THEN 'restricted' ELSE 'error' END AS status) s;

INSERT INTO api_call_log (method, chat_id, user_id, success, latency_ms, error_type, "timestamp")
SELECT m.method,
       -1000000000000 - (1 + g % :groups),
       100000 + (pg_temp.u(g, 11) * 500000)::bigint,
       NOT f.failed,
       CASE WHEN pg_temp.u(g, 12) < 0.01 THEN NULL ELSE (30 + power(pg_temp.u(g, 13), 2) * 400)::int END,
       CASE WHEN f.failed THEN (ARRAY['BadRequest','Forbidden','RetryAfter','NetworkError'])[1 + g % 4] END,
       :'anchor'::timestamptz - (:days * 86400 * (1 - (g - 0.5) / :arows) + 5 * pg_temp.u(g, 14)) * interval '1 second'
FROM generate_series(1, :arows) g,
     LATERAL (SELECT pg_temp.u(g, 16) < 0.03 AS failed) f,
     LATERAL (SELECT CASE WHEN pg_temp.u(g, 15) < 0.55 THEN 'getChatMember'
                          ELSE (ARRAY['sendMessage','restrictChatMember','deleteMessage','getChat',
                                      'answerCallbackQuery','editMessageText','getChatAdministrators',
                                      'banChatMember','unbanChatMember','getMe','getChatMemberCount',
                                      'sendPhoto','pinChatMessage','leaveChat','setMyCommands'])
                               [1 + floor(power(pg_temp.u(g, 17), 1.5) * 15)::int] END AS method) m;

RESET search_path;
ANALYZE;
