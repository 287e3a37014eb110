-- nezuko_analytics 1.12 -> 1.13, written by hand (docs/versions.md).  1.13
-- changes the portable edition alone (its summaries read a long window's top
-- groups by the group index); the native edition's objects are the same as
-- in 1.12.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.13'" to load this file. \quit
