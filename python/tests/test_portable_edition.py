"""The migration and the client with the portable edition, as on hosted Supabase.

Needs a server with pg_tle preloaded and build/portable/install_pgtle.sql
built: test/portable/run_portable_tests.sh runs this file against its
Supabase-like server (NZ_PGTLE_SERVER=1).  The main test server has no
pg_tle, so there these tests are skipped, not run."""

import asyncio
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import BOT_ROWS_DIGEST, BOT_TABLES_SQL, ROOT, alembic, digest, pg_url, psql
from nezuko_analytics import Analytics

pytestmark = pytest.mark.skipif(os.environ.get("NZ_PGTLE_SERVER") != "1",
                                reason="needs pg_tle preloaded (run by test/portable/run_portable_tests.sh)")

# As hosted Supabase refuses C extensions ("permission denied for language c"):
# an event trigger of the platform refuses the native edition.
REFUSE_NATIVE = """
CREATE OR REPLACE FUNCTION public.refuse_native() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_type = 'extension'
               AND object_identity = 'nezuko_analytics') THEN
        RAISE EXCEPTION 'permission denied for language c' USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;
CREATE EVENT TRIGGER refuse_native ON ddl_command_end WHEN TAG IN ('CREATE EXTENSION') EXECUTE FUNCTION public.refuse_native();
"""


@pytest.fixture
def supabase_db(pg_db):
    """pg_db owned by a non-superuser pgtle_admin, with the edition registered and the native one refused."""
    role = pg_db + "_owner"
    psql("postgres", f"CREATE ROLE {role} LOGIN")
    psql("postgres", f"ALTER DATABASE {pg_db} OWNER TO {role}")
    psql(pg_db, f"ALTER SCHEMA public OWNER TO {role}")
    psql(pg_db, "CREATE EXTENSION pg_tle")
    psql(pg_db, f"GRANT pgtle_admin TO {role}")
    psql(pg_db, REFUSE_NATIVE)
    out = psql(pg_db, "\\i " + str(ROOT / "build" / "portable" / "install_pgtle.sql"), user=role)
    assert out.endswith("t")
    try:
        yield pg_db, role
    finally:
        psql("postgres", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        psql("postgres", f"DROP ROLE {role}")


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def test_the_migration_falls_back_to_the_portable_edition(supabase_db, tmp_path):
    db, role = supabase_db
    psql(db, BOT_TABLES_SQL, user=role)
    before = digest(db, BOT_ROWS_DIGEST)
    url = pg_url(db, user=role)
    result = ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert "nezuko_analytics is available but cannot be created here" in result.stderr
    assert "permission denied for language c" in result.stderr
    assert "nezuko_analytics edition in use: nezuko_analytics_sql" in result.stderr
    assert psql(db, "SELECT extname || ' ' || extowner::regrole FROM pg_extension WHERE extname LIKE 'nezuko%'") == \
        f"nezuko_analytics_sql {role}"
    assert psql(db, "SELECT count(*) FROM nezuko_analytics.schema_changes") != "0"
    assert digest(db, BOT_ROWS_DIGEST) == before
    ok(alembic(url, "downgrade", "base", cwd=tmp_path))
    assert psql(db, "SELECT count(*) FROM pg_extension WHERE extname LIKE 'nezuko%'") == "0"
    assert digest(db, BOT_ROWS_DIGEST) == before
    ok(alembic(url, "upgrade", "head", cwd=tmp_path))
    assert psql(db, "SELECT extname FROM pg_extension WHERE extname LIKE 'nezuko%'") == "nezuko_analytics_sql"


def test_analytics_works_unchanged_on_the_portable_edition(supabase_db, tmp_path):
    db, role = supabase_db
    psql(db, BOT_TABLES_SQL, user=role)
    ok(alembic(pg_url(db, user=role), "upgrade", "head", cwd=tmp_path))
    engine = create_async_engine(pg_url(db, user=role))
    try:
        analytics = Analytics(engine)
        since = datetime.now(timezone.utc) - timedelta(days=30)

        async def calls():
            async with engine.connect() as conn:
                assert await analytics._use_extension(conn)
            return (await analytics.dashboard(since, tz="Asia/Kathmandu"), await analytics.latency_histogram(since),
                    await analytics.method_distribution(since))

        doc, histogram, methods = asyncio.run(calls())
    finally:
        asyncio.run(engine.dispose())
    # the same figures the database's own functions give
    expected = psql(db, f"SELECT (nezuko_analytics.dashboard('{since.isoformat()}', now(), 'Asia/Kathmandu')"
                        "->'totals'->>'verifications')", user=role)
    assert doc["totals"]["verifications"] == int(expected) > 0
    assert [b["bucket"] for b in histogram] == ["<50ms", "50-100ms", "100-200ms", "200-500ms", ">500ms"]
    assert isinstance(methods, list)
