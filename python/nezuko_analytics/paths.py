"""The SQL scripts the package ships as data (package nezuko_analytics.sql;
in the repository they are links to sql/sqlite/), found the same way in a
checkout and in an installed package."""

from importlib.resources import files

_SQL = files("nezuko_analytics") / "sql"
SQLITE_SCHEMA_SQL = _SQL / "sqlite_schema.sql"
SQLITE_PRUNE_SQL = _SQL / "sqlite_prune.sql"
