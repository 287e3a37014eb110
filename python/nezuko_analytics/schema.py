"""The schema steps of the Alembic migration, per back end.

PostgreSQL: the first edition of the extension that can be created here --
the native nezuko_analytics where the server has it and the role may create
it, else the portable nezuko_analytics_sql where pg_tle has it registered
(hosted Supabase) -- then apply_schema() (downgrade: revert_schema() and DROP
EXTENSION).  With neither: the same tables, columns and indexes as plain
DDL, from spec_data (generated from the extension's own spec functions,
sql/shared/20_schema_spec.sql); each object it adds is marked with a comment
so the downgrade removes exactly those.
SQLite: the package's sqlite_schema.sql (sql/sqlite/nezuko_analytics.sql),
run by the sqlite3 CLI (it uses its dot-commands); the downgrade is the
spec's downgrade."""

import logging
import shutil
import subprocess

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .paths import SQLITE_SCHEMA_SQL
from .spec_data import BASE_TABLE_DDL, SPEC_COLUMNS, SPEC_INDEXES

log = logging.getLogger("nezuko_analytics.migration")

MARKER = "added by the nezuko_analytics migration (plain DDL)"



def upgrade(conn):
    if conn.dialect.name == "postgresql":
        _upgrade_postgresql(conn)
    elif conn.dialect.name == "sqlite":
        _run_sqlite_script(conn, SQLITE_SCHEMA_SQL)
    else:
        raise RuntimeError(f"nezuko_analytics supports PostgreSQL and SQLite, not {conn.dialect.name}")


def downgrade(conn):
    if conn.dialect.name == "postgresql":
        _downgrade_postgresql(conn)
    elif conn.dialect.name == "sqlite":
        _downgrade_sqlite(conn)
    else:
        raise RuntimeError(f"nezuko_analytics supports PostgreSQL and SQLite, not {conn.dialect.name}")


# ---------------------------------------------------------------- PostgreSQL

# The editions in the order the migration tries them.
EDITIONS = ("nezuko_analytics", "nezuko_analytics_sql")
# The edition installed in this database (no row when none is); the client asks it too.
INSTALLED_EDITION_SQL = "SELECT extname FROM pg_extension WHERE extname IN ({})".format(
    ", ".join(f"'{edition}'" for edition in EDITIONS))


def installed_edition(conn):
    """The edition of the extension installed in this database, or None."""
    return conn.execute(text(INSTALLED_EDITION_SQL)).scalar()


def _can_create(conn, edition):
    if edition == "nezuko_analytics":
        return conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'nezuko_analytics')")).scalar()
    # a Trusted Language Extension: registered with pg_tle in this database
    return conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_tle') "
        "AND EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'available_extensions' "
        "            AND pronamespace = to_regnamespace('pgtle'))")).scalar() and conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pgtle.available_extensions() WHERE name = 'nezuko_analytics_sql')")).scalar()


def _create_edition(conn):
    """Creates the first edition that can be created here; its name, or None."""
    for edition in EDITIONS:
        if not _can_create(conn, edition):
            log.info("nezuko_analytics edition %s is not available here", edition)
            continue
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {edition}")
            return edition
        except DBAPIError as error:  # typically: permission denied (not a superuser, no C extensions)
            log.warning("nezuko_analytics: %s is available but cannot be created here (%s)",
                        edition, str(error.orig).splitlines()[0])
    return None


def _upgrade_postgresql(conn):
    edition = installed_edition(conn) or _create_edition(conn)
    if edition is None:
        log.warning("nezuko_analytics: no edition of the extension can be created here; applying the schema as "
                    "plain DDL, without the analytics functions")
        _apply_plain_ddl(conn)
        return
    log.info("nezuko_analytics edition in use: %s", edition)
    for (line,) in conn.execute(text("SELECT * FROM nezuko_analytics.apply_schema(current_schema())")):
        log.info("nezuko_analytics: %s", line)


def _exists(conn, schema, name):
    return conn.execute(text("SELECT to_regclass(format('%I.%I', CAST(:s AS text), CAST(:n AS text))) IS NOT NULL"),
                        {"s": schema, "n": name}).scalar()


def _mark(conn, kind, qualified_name):
    conn.exec_driver_sql(f"COMMENT ON {kind} {qualified_name} IS '{MARKER}'")


def _quoter(conn):
    """q(schema, name, ...): the names quoted as identifiers by the dialect and joined with dots."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    return lambda *names: ".".join(quote(n) for n in names)


def _apply_plain_ddl(conn):
    """The spec's tables, columns and indexes in the current schema, each statement on its own."""
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    q = _quoter(conn)
    for _, table, ddl in sorted(BASE_TABLE_DDL):
        if _exists(conn, schema, table):
            continue
        # the extension's format(create_ddl, schema), done by the server
        statements = conn.execute(text("SELECT format(:ddl, CAST(:schema AS text))"), {"ddl": ddl, "schema": schema}).scalar()
        for statement in statements.split(";\n"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        _mark(conn, "TABLE", q(schema, table))
    for table, column, column_ddl, _, added_by_spec in SPEC_COLUMNS:
        present = conn.execute(text("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = :s "
                                    "AND table_name = :t AND column_name = :c)"), {"s": schema, "t": table, "c": column}).scalar()
        if not added_by_spec or present:
            continue
        conn.exec_driver_sql(f"ALTER TABLE {q(schema, table)} ADD COLUMN {q(column)} {column_ddl}")
        _mark(conn, "COLUMN", q(schema, table, column))
    for index, table, key_columns in SPEC_INDEXES:
        if _exists(conn, schema, index):
            continue
        conn.exec_driver_sql(f"CREATE INDEX {q(index)} ON {q(schema, table)} {key_columns}")
        _mark(conn, "INDEX", q(schema, index))


def _downgrade_postgresql(conn):
    edition = installed_edition(conn)
    if edition is not None:
        for (line,) in conn.execute(text("SELECT * FROM nezuko_analytics.revert_schema()")):
            log.info("nezuko_analytics: %s", line)
        conn.exec_driver_sql(f"DROP EXTENSION {edition}")
        return
    _remove_plain_ddl(conn)


def _remove_plain_ddl(conn):
    """Removes what carries the marker, newest kind first: indexes, columns, then tables (base tables only while empty)."""
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    q = _quoter(conn)
    marked = text("""
        SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                AND col_description(c.oid, a.attnum) = :marker
        WHERE n.nspname = :schema AND CAST(c.relkind AS text) = :kind
          AND (CASE WHEN :columns THEN a.attname IS NOT NULL ELSE obj_description(c.oid, 'pg_class') = :marker END)
        ORDER BY CASE c.relname WHEN 'api_call_log' THEN 0 WHEN 'verification_log' THEN 1
                                WHEN 'group_channel_links' THEN 2 ELSE 3 END, 1, 2""")
    def objects(kind, columns=False):
        return conn.execute(marked, {"marker": MARKER, "schema": schema, "kind": kind, "columns": columns}).all()
    for index, _ in objects("i"):
        conn.exec_driver_sql(f"DROP INDEX {q(schema, index)}")
    for table, column in objects("r", columns=True):
        conn.exec_driver_sql(f"ALTER TABLE {q(schema, table)} DROP COLUMN {q(column)}")
    for table, _ in objects("r"):
        has_rows = conn.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {q(schema, table)})").scalar()
        if table == "api_call_log" or not has_rows:
            conn.exec_driver_sql(f"DROP TABLE {q(schema, table)}")


# ---------------------------------------------------------------- SQLite

def _sqlite_file(conn):
    path = conn.engine.url.database
    if not path or path == ":memory:":
        raise RuntimeError("nezuko_analytics: the SQLite migration needs a database file, not an in-memory database")
    return path


def _run_sqlite_script(conn, script):
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        raise RuntimeError("nezuko_analytics: the sqlite3 command-line tool is needed (Debian package sqlite3)")
    # The script runs in its own transaction; this connection must not hold a write lock meanwhile.
    with script.open("rb") as sql:
        result = subprocess.run([sqlite3, "-bail", _sqlite_file(conn)], stdin=sql, capture_output=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"nezuko_analytics: {script.name} failed: {result.stderr.decode().strip()}")


def _downgrade_sqlite(conn):
    # The spec's downgrade: its indexes, its columns and api_call_log go; the
    # bot's own tables and columns stay with every row.
    for index, _, _ in SPEC_INDEXES:
        conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index}"')
    for table, column, _, _, added_by_spec in SPEC_COLUMNS:
        if not added_by_spec or table == "api_call_log":  # the bot's own columns stay; api_call_log goes whole
            continue
        present = conn.exec_driver_sql(f"SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'").first()
        if present:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    conn.exec_driver_sql("DROP TABLE IF EXISTS api_call_log")
