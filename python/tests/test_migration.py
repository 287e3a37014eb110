"""alembic upgrade head / downgrade base / upgrade head on every starting point."""

import sqlite3

from conftest import BOT_ROWS_DIGEST, BOT_TABLES_SQL, alembic, digest, pg_url, psql

SPEC_COLUMNS = ("api_call_log.method", "api_call_log.latency_ms", "api_call_log.timestamp",
                "protected_groups.member_count", "protected_groups.last_sync_at",
                "enforced_channels.subscriber_count", "enforced_channels.last_sync_at", "verification_log.error_type")
SPEC_INDEXES = ("idx_api_call_log_method", "idx_api_call_log_timestamp", "idx_api_call_log_method_timestamp",
                "idx_api_call_log_success", "idx_verification_log_error_type",
                "idx_verification_log_timestamp_cached", "idx_verification_log_timestamp_latency")


def pg_columns(db):
    return set(psql(db, "SELECT table_name || '.' || column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public'").split())


def pg_indexes(db):
    return set(psql(db, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").split())


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def test_fresh_postgres_database_with_the_extension(pg_db, tmp_path):
    url = pg_url(pg_db)
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    # the migration installs the extension's current version
    assert psql(pg_db, "SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics'") == psql(
        pg_db, "SELECT default_version FROM pg_available_extensions WHERE name = 'nezuko_analytics'")
    assert set(SPEC_COLUMNS) <= pg_columns(pg_db)
    assert set(SPEC_INDEXES) <= pg_indexes(pg_db)
    assert psql(pg_db, "SELECT version_num FROM alembic_version") == "add_charts_analytics"
    ok(alembic(url, "downgrade", "base", cwd=tmp_path))
    assert psql(pg_db, "SELECT count(*) FROM pg_extension WHERE extname = 'nezuko_analytics'") == "0"
    assert "api_call_log.method" not in pg_columns(pg_db)
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert set(SPEC_COLUMNS) <= pg_columns(pg_db)


def test_postgres_database_of_the_running_bot_loses_no_row(pg_db, tmp_path):
    psql(pg_db, BOT_TABLES_SQL)
    before = digest(pg_db, BOT_ROWS_DIGEST)
    url = pg_url(pg_db)
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert digest(pg_db, BOT_ROWS_DIGEST) == before
    assert set(SPEC_COLUMNS) <= pg_columns(pg_db)
    psql(pg_db, "UPDATE protected_groups SET member_count = 5")
    ok(alembic(url, "downgrade", "base", cwd=tmp_path))
    assert digest(pg_db, BOT_ROWS_DIGEST) == before
    assert psql(pg_db, "SELECT count(*) FROM protected_groups") == "20"
    assert "protected_groups.member_count" not in pg_columns(pg_db)
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert digest(pg_db, BOT_ROWS_DIGEST) == before


def test_extension_already_installed_is_a_no_op(pg_db, tmp_path):
    psql(pg_db, BOT_TABLES_SQL)
    psql(pg_db, "CREATE EXTENSION nezuko_analytics; SELECT nezuko_analytics.apply_schema();")
    shape_sql = ("SELECT string_agg(table_name || column_name || data_type || coalesce(column_default, ''), ',' "
                 "ORDER BY table_name, column_name) FROM information_schema.columns "
                 "WHERE table_schema = 'public' AND table_name <> 'alembic_version'")
    shape = digest(pg_db, shape_sql)
    indexes = pg_indexes(pg_db)
    result = ok(alembic(pg_url(pg_db), "upgrade", "head", cwd=tmp_path))
    assert "nezuko_analytics: " not in result.stderr  # apply_schema() reported no change
    assert shape == digest(pg_db, shape_sql)
    assert pg_indexes(pg_db) - indexes == {"alembic_version_pkc"}


def test_postgres_where_the_extension_cannot_be_created(pg_db, tmp_path):
    # A role without CREATE on the database cannot create the extension (as
    # where the package is not installed at all, on hosted Supabase).
    role = pg_db + "_bot"
    psql("postgres", f"CREATE ROLE {role} LOGIN")
    try:
        psql(pg_db, f"ALTER SCHEMA public OWNER TO {role}")
        psql(pg_db, BOT_TABLES_SQL, user=role)
        before = digest(pg_db, BOT_ROWS_DIGEST)
        url = pg_url(pg_db, user=role)
        result = ok(alembic(url, "upgrade", "head", cwd=tmp_path))
        assert "applying the schema as plain DDL" in result.stderr
        assert psql(pg_db, "SELECT count(*) FROM pg_extension WHERE extname = 'nezuko_analytics'") == "0"
        assert set(SPEC_COLUMNS) <= pg_columns(pg_db)
        assert set(SPEC_INDEXES) <= pg_indexes(pg_db)
        assert psql(pg_db, "SELECT column_default FROM information_schema.columns "
                           "WHERE table_name = 'protected_groups' AND column_name = 'member_count'") == "0"
        assert digest(pg_db, BOT_ROWS_DIGEST) == before
        ok(alembic(url, "downgrade", "base", cwd=tmp_path))
        assert not {"api_call_log.method", "protected_groups.member_count"} & pg_columns(pg_db)
        assert not set(SPEC_INDEXES) & pg_indexes(pg_db)
        assert digest(pg_db, BOT_ROWS_DIGEST) == before
        ok(alembic(url, "upgrade", "head", cwd=tmp_path))
        assert set(SPEC_COLUMNS) <= pg_columns(pg_db)
    finally:
        psql("postgres", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        psql("postgres", f"DROP ROLE {role}")


def test_postgres_database_owner_installs_the_trusted_extension(pg_db, tmp_path):
    # A database owner that is no superuser (a managed host's admin role) installs it: it is trusted.
    role = pg_db + "_owner"
    psql("postgres", f"CREATE ROLE {role} LOGIN")
    try:
        psql("postgres", f"ALTER DATABASE {pg_db} OWNER TO {role}")
        psql(pg_db, f"ALTER SCHEMA public OWNER TO {role}")
        psql(pg_db, BOT_TABLES_SQL, user=role)
        before = digest(pg_db, BOT_ROWS_DIGEST)
        url = pg_url(pg_db, user=role)
        result = ok(alembic(url, "upgrade", "head", cwd=tmp_path))
        assert "applying the schema as plain DDL" not in result.stderr
        assert psql(pg_db, "SELECT extowner::regrole FROM pg_extension WHERE extname = 'nezuko_analytics'") == role
        assert set(SPEC_COLUMNS) <= pg_columns(pg_db)
        assert psql(pg_db, "SELECT (nezuko_analytics.get_dashboard_stats()->>'total_groups')::int > 0", user=role) == "t"
        assert digest(pg_db, BOT_ROWS_DIGEST) == before
        ok(alembic(url, "downgrade", "base", cwd=tmp_path))
        assert psql(pg_db, "SELECT count(*) FROM pg_extension WHERE extname = 'nezuko_analytics'") == "0"
        assert digest(pg_db, BOT_ROWS_DIGEST) == before
        assert psql(pg_db, f"SELECT rolsuper FROM pg_roles WHERE rolname = '{role}'") == "f"
    finally:
        psql("postgres", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        psql("postgres", f"DROP ROLE {role}")


def sqlite_columns(path):
    with sqlite3.connect(path) as db:
        return {f"{t}.{c}" for (t,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
                for (c,) in db.execute(f"SELECT name FROM pragma_table_info('{t}')")}


def test_fresh_sqlite_file(tmp_path):
    path = tmp_path / "nezuko.db"
    url = f"sqlite+aiosqlite:///{path}"
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert set(SPEC_COLUMNS) <= sqlite_columns(path)
    ok(alembic(url, "downgrade", "base", cwd=tmp_path))
    assert "api_call_log.method" not in sqlite_columns(path)
    assert "verification_log.status" in sqlite_columns(path)
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert set(SPEC_COLUMNS) <= sqlite_columns(path)


def test_existing_sqlite_file_with_rows(tmp_path):
    path = tmp_path / "nezuko.db"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE protected_groups (group_id BIGINT NOT NULL PRIMARY KEY, owner_id BIGINT, title VARCHAR(255),
                enabled BOOLEAN NOT NULL DEFAULT 1, params JSON, created_at DATETIME, updated_at DATETIME);
            CREATE TABLE enforced_channels (channel_id BIGINT NOT NULL PRIMARY KEY, title VARCHAR(255),
                username VARCHAR(64), invite_link TEXT, created_at DATETIME, updated_at DATETIME);
            CREATE TABLE verification_log (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id BIGINT NOT NULL,
                group_id BIGINT NOT NULL, channel_id BIGINT, status VARCHAR(20) NOT NULL, latency_ms INTEGER,
                cached BOOLEAN NOT NULL DEFAULT 0, "timestamp" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
            INSERT INTO protected_groups (group_id, title) VALUES (1, 'one'), (2, 'two');
        """)
        db.executemany("INSERT INTO verification_log (user_id, group_id, status, latency_ms) VALUES (?, 1, 'verified', ?)",
                       [(i, i * 3) for i in range(500)])
    rows = lambda: sqlite3.connect(path).execute(
        "SELECT group_concat(id || user_id || status || ifnull(latency_ms, '') || \"timestamp\") FROM verification_log").fetchone()
    before = rows()
    url = f"sqlite+aiosqlite:///{path}"
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert rows() == before
    assert set(SPEC_COLUMNS) <= sqlite_columns(path)
    ok(alembic(url, "downgrade", "base", cwd=tmp_path))
    assert rows() == before
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert rows() == before
