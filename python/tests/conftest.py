"""Fixtures: databases on the test runner's PostgreSQL server (PGHOST, PGPORT,
PGUSER from scripts/test.sh) and SQLite files; Alembic run as the bot runs it."""

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "python" / "alembic.ini"


def pg_url(db, user=None):
    user = user or os.environ.get("PGUSER", "postgres")
    return f"postgresql+asyncpg://{user}@/{db}?host={os.environ['PGHOST']}&port={os.environ['PGPORT']}"


def psql(db, sql, user=None):
    out = subprocess.run(["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-d", db, "-U", user or os.environ.get("PGUSER", "postgres"),
                          "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def alembic(url, *args, cwd):
    """python3 -m alembic -c python/alembic.ini ARGS, from another directory."""
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(ROOT / "python"))
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def digest(db, query):
    return hashlib.md5(psql(db, query).encode()).hexdigest()


@pytest.fixture
def pg_db():
    name = "nz_py_" + uuid.uuid4().hex[:10]
    psql("postgres", f"CREATE DATABASE {name}")
    yield name
    psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


BOT_TABLES_SQL = """
CREATE TABLE protected_groups (group_id bigint PRIMARY KEY, owner_id bigint, title varchar(255),
    enabled boolean NOT NULL DEFAULT true, params jsonb, created_at timestamptz, updated_at timestamptz);
CREATE TABLE enforced_channels (channel_id bigint PRIMARY KEY, title varchar(255), username varchar(64),
    invite_link text, created_at timestamptz, updated_at timestamptz);
CREATE TABLE group_channel_links (id serial PRIMARY KEY, group_id bigint REFERENCES protected_groups,
    channel_id bigint REFERENCES enforced_channels, is_required boolean DEFAULT true, created_at timestamptz,
    UNIQUE (group_id, channel_id));
CREATE TABLE verification_log (id bigserial PRIMARY KEY, user_id bigint NOT NULL, group_id bigint NOT NULL,
    channel_id bigint, status varchar(20) NOT NULL, latency_ms integer, cached boolean NOT NULL DEFAULT false,
    "timestamp" timestamptz NOT NULL DEFAULT now());
INSERT INTO protected_groups (group_id, title) SELECT g, 'group ' || g FROM generate_series(1, 20) g;
INSERT INTO enforced_channels (channel_id, title) SELECT g, 'channel ' || g FROM generate_series(1, 3) g;
INSERT INTO verification_log (user_id, group_id, status, latency_ms, "timestamp")
SELECT g, g % 20 + 1, (ARRAY['verified','restricted','error'])[g % 3 + 1], nullif(g % 500, 3),
       now() - g * interval '7 minutes' FROM generate_series(1, 3000) g;
"""

BOT_ROWS_DIGEST = ("SELECT md5(string_agg(row(id, user_id, group_id, status, latency_ms, cached, \"timestamp\")::text, ',' ORDER BY id)) "
                   "FROM verification_log")
