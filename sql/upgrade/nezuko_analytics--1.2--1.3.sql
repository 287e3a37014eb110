-- nezuko_analytics 1.2 -> 1.3, written by hand (docs/versions.md): every
-- object 1.3 adds, changes or drops.  extension_upgrade compares the result
-- with a fresh install.
\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.3'" to load this file. \quit
