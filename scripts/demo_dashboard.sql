-- What the demo prints: the dashboard's figures for the last 7 days.
\echo 'Verifications by status, last 7 days'
SELECT status, count(*) AS count,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS percentage
FROM verification_log WHERE "timestamp" >= now() - interval '7 days'
GROUP BY status ORDER BY count DESC;
