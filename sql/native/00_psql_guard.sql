-- The native edition's script is read by CREATE EXTENSION only.
\echo Use "CREATE EXTENSION nezuko_analytics" to load this file. \quit
