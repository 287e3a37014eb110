"""An unreachable or read-only database, or an SQLite file that is not a
database: the migration fails with the driver's clear error and changes nothing."""

import os

from conftest import alembic, pg_url, psql


def test_unreachable_postgres(tmp_path):
    url = f"postgresql+asyncpg://postgres@/postgres?host={os.environ['PGHOST']}&port=1"
    result = alembic(url, "upgrade", "head", cwd=tmp_path)
    assert result.returncode != 0
    assert "No such file or directory" in result.stderr or "Connect call failed" in result.stderr


def test_read_only_postgres_changes_nothing(pg_db, tmp_path):
    psql(pg_db, "CREATE TABLE protected_groups (group_id bigint PRIMARY KEY, title text, enabled boolean NOT NULL DEFAULT true)")
    psql("postgres", f"ALTER DATABASE {pg_db} SET default_transaction_read_only = on")
    result = alembic(pg_url(pg_db), "upgrade", "head", cwd=tmp_path)
    assert result.returncode != 0
    assert "read-only transaction" in result.stderr
    psql("postgres", f"ALTER DATABASE {pg_db} RESET default_transaction_read_only")
    assert psql(pg_db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == "1"
    assert psql(pg_db, "SELECT count(*) FROM pg_extension WHERE extname = 'nezuko_analytics'") == "0"


def test_sqlite_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("this is not a database\n" * 100)
    before = path.read_bytes()
    result = alembic(f"sqlite+aiosqlite:///{path}", "upgrade", "head", cwd=tmp_path)
    assert result.returncode != 0
    assert "file is not a database" in result.stderr
    assert path.read_bytes() == before
