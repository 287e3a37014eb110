"""The schema steps of the Alembic migration, per back end.

PostgreSQL with nezuko_analytics available: CREATE EXTENSION and
apply_schema() (downgrade: revert_schema() and DROP EXTENSION).
PostgreSQL without it (hosted Supabase allows no C extensions): the same
tables, columns and indexes as plain DDL, taken from the project's one SQL
source of that DDL (sql/ext/20_schema_spec.sql, loaded into pg_temp); each
object it adds is marked with a comment so the downgrade removes exactly those.
SQLite: sql/sqlite/nezuko_analytics.sql, run by the sqlite3 CLI (it uses its
dot-commands); the downgrade is the spec's downgrade."""

import logging
import shutil
import subprocess

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .paths import SPEC_SQL, SQLITE_SCHEMA_SQL

log = logging.getLogger("nezuko_analytics.migration")

MARKER = "added by the nezuko_analytics migration (plain DDL)"

SPEC_INDEXES = ["idx_api_call_log_method", "idx_api_call_log_timestamp", "idx_api_call_log_method_timestamp",
                "idx_api_call_log_success", "idx_verification_log_error_type",
                "idx_verification_log_timestamp_cached", "idx_verification_log_timestamp_latency"]
SPEC_COLUMNS = [("verification_log", "error_type"), ("enforced_channels", "last_sync_at"),
                ("enforced_channels", "subscriber_count"), ("protected_groups", "last_sync_at"),
                ("protected_groups", "member_count")]


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

def _extension_installed(conn):
    return conn.execute(text("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'nezuko_analytics')")).scalar()


def _upgrade_postgresql(conn):
    if not _extension_installed(conn):
        available = conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'nezuko_analytics')")).scalar()
        if available:
            try:
                with conn.begin_nested():
                    conn.execute(text("CREATE EXTENSION IF NOT EXISTS nezuko_analytics"))
            except DBAPIError as error:  # typically: permission denied (not a superuser)
                log.warning("nezuko_analytics: the extension is available but cannot be created here (%s); "
                            "applying the schema as plain DDL, without the native functions",
                            str(error.orig).splitlines()[0])
                _apply_plain_ddl(conn)
                return
        else:
            log.warning("nezuko_analytics: the extension is not available on this server; applying the schema as "
                        "plain DDL, without the native functions")
            _apply_plain_ddl(conn)
            return
    for (line,) in conn.execute(text("SELECT * FROM nezuko_analytics.apply_schema(current_schema())")):
        log.info("nezuko_analytics: %s", line)


def _exec_script(conn, sql):
    """Runs a script of several statements as it is, in the migration's transaction."""
    if conn.dialect.driver == "asyncpg":
        # asyncpg prepares each statement and refuses several at once; its own
        # execute() without arguments uses the simple query protocol.
        from sqlalchemy.util import await_only
        await_only(conn.connection.dbapi_connection._connection.execute(sql))
        return
    if conn.dialect.paramstyle in ("format", "pyformat"):  # e.g. psycopg2: a literal % is doubled
        sql = sql.replace("%", "%%")
    conn.exec_driver_sql(sql)


def _load_spec_into_pg_temp(conn):
    # The one SQL source of the DDL, as session-local functions.
    _exec_script(conn, SPEC_SQL.read_text().replace("nezuko_analytics.", "pg_temp."))


def _apply_plain_ddl(conn):
    _load_spec_into_pg_temp(conn)
    _exec_script(conn, r"""
DO $$
DECLARE
    s name := current_schema();
    spec record;
    marker text := '""" + MARKER + r"""';
BEGIN
    FOR spec IN SELECT * FROM pg_temp.base_table_ddl() ORDER BY creation_order LOOP
        CONTINUE WHEN to_regclass(format('%I.%I', s, spec.table_name)) IS NOT NULL;
        EXECUTE format(spec.create_ddl, s);
        EXECUTE format('COMMENT ON TABLE %I.%I IS %L', s, spec.table_name, marker);
    END LOOP;
    FOR spec IN SELECT * FROM pg_temp.spec_columns() WHERE added_by_spec LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM information_schema.columns
                              WHERE table_schema = s AND table_name = spec.table_name AND column_name = spec.column_name);
        EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I %s', s, spec.table_name, spec.column_name, spec.column_ddl);
        EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', s, spec.table_name, spec.column_name, marker);
    END LOOP;
    FOR spec IN SELECT * FROM pg_temp.spec_indexes() LOOP
        CONTINUE WHEN to_regclass(format('%I.%I', s, spec.index_name)) IS NOT NULL;
        EXECUTE format('CREATE INDEX %I ON %I.%I %s', spec.index_name, s, spec.table_name, spec.key_columns);
        EXECUTE format('COMMENT ON INDEX %I.%I IS %L', s, spec.index_name, marker);
    END LOOP;
END $$""")


def _downgrade_postgresql(conn):
    if _extension_installed(conn):
        for (line,) in conn.execute(text("SELECT * FROM nezuko_analytics.revert_schema()")):
            log.info("nezuko_analytics: %s", line)
        conn.execute(text("DROP EXTENSION nezuko_analytics"))
        return
    # Plain DDL: remove what carries the marker, newest kind first; empty base tables only.
    _exec_script(conn, r"""
DO $$
DECLARE
    s name := current_schema();
    r record;
    has_rows boolean;
    marker text := '""" + MARKER + r"""';
BEGIN
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = s AND c.relkind = 'i' AND obj_description(c.oid, 'pg_class') = marker LOOP
        EXECUTE format('DROP INDEX %I.%I', s, r.relname);
    END LOOP;
    FOR r IN SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = s AND a.attnum > 0 AND NOT a.attisdropped
               AND col_description(c.oid, a.attnum) = marker LOOP
        EXECUTE format('ALTER TABLE %I.%I DROP COLUMN %I', s, r.relname, r.attname);
    END LOOP;
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = s AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') = marker
             ORDER BY CASE c.relname WHEN 'api_call_log' THEN 0 WHEN 'verification_log' THEN 1
                                     WHEN 'group_channel_links' THEN 2 ELSE 3 END LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', s, r.relname) INTO has_rows;
        IF r.relname = 'api_call_log' OR NOT has_rows THEN
            EXECUTE format('DROP TABLE %I.%I', s, r.relname);
        END IF;
    END LOOP;
END $$""")


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
    with open(script, "rb") as sql:
        result = subprocess.run([sqlite3, "-bail", _sqlite_file(conn)], stdin=sql, capture_output=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"nezuko_analytics: {script.name} failed: {result.stderr.decode().strip()}")


def _downgrade_sqlite(conn):
    # The spec's downgrade: its indexes, its columns and api_call_log go; the
    # bot's own tables and columns stay with every row.
    for index in SPEC_INDEXES:
        conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index}"')
    for table, column in SPEC_COLUMNS:
        present = conn.exec_driver_sql(f"SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'").first()
        if present:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    conn.exec_driver_sql("DROP TABLE IF EXISTS api_call_log")
