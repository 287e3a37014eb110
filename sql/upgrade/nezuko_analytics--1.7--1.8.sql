-- nezuko_analytics 1.7 -> 1.8, written by hand (docs/versions.md).  1.8
-- changes the portable edition's summaries and the native module's rollup
-- build; the native SQL is the same as 1.7's.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.8'" to load this file. \quit
