"""Where the project's SQL lives: one source for both the extension and the bot."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPEC_SQL = PROJECT_ROOT / "sql" / "ext" / "20_schema_spec.sql"
SQLITE_SCHEMA_SQL = PROJECT_ROOT / "sql" / "sqlite" / "nezuko_analytics.sql"
SQLITE_PRUNE_SQL = PROJECT_ROOT / "sql" / "sqlite" / "prune.sql"
