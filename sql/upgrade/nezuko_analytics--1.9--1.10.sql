-- nezuko_analytics 1.9 -> 1.10, written by hand (docs/versions.md).  1.10
-- changes the portable edition's reads only (window_days(), day_read_sql());
-- the native edition's objects stay as 1.9 made them.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.10'" to load this file. \quit
