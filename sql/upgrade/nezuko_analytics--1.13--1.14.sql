-- nezuko_analytics 1.13 -> 1.14, written by hand (docs/versions.md).  1.14
-- changes the portable edition alone (its summaries read a long window's
-- local hours hour by hour); the native edition's objects are the same as
-- in 1.13.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.14'" to load this file. \quit
