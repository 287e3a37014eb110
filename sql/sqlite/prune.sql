-- The 90-day clean-up for the bot's SQLite development database, the same
-- rule as nezuko_analytics.prune() on PostgreSQL: rows whose "timestamp" is
-- older than 90 days are deleted; rows exactly on the cutoff and rows with a
-- NULL timestamp are kept.  Run with:
--   sqlite3 -bail storage/data/nezuko.db < sql/sqlite/prune.sql
-- julianday() reads every timestamp form the bot writes (CURRENT_TIMESTAMP's
-- 'YYYY-MM-DD HH:MM:SS', SQLAlchemy's microseconds, a 'T' separator, a
-- '+00:00' offset), so the comparison is by time, not by text.
.bail on
BEGIN IMMEDIATE;
DELETE FROM api_call_log WHERE julianday("timestamp") < julianday('now', '-90 days');
SELECT 'api_call_log: ' || changes() || ' rows older than 90 days deleted';
DELETE FROM verification_log WHERE julianday("timestamp") < julianday('now', '-90 days');
SELECT 'verification_log: ' || changes() || ' rows older than 90 days deleted';
COMMIT;
