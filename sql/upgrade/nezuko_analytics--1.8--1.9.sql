-- nezuko_analytics 1.8 -> 1.9, written by hand (docs/versions.md).  1.9
-- changes the portable edition's reads only (window_slices()); the native
-- edition's objects stay as 1.8 made them.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.9'" to load this file. \quit
