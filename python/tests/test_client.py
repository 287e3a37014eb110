"""The client's documents are the same on PostgreSQL (native functions) and
SQLite (plain SQL) for the same rows, an empty window included."""

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from conftest import alembic, pg_url
from nezuko_analytics import Analytics, ApiCallLog, ProtectedGroup, VerificationLog

ANCHOR = datetime(2026, 11, 20, tzinfo=timezone.utc)


def generated_rows():
    rng = random.Random(7)
    groups = [ProtectedGroup(group_id=-1000 - g, title=None if g % 4 == 0 else f"Group {g}", member_count=g * 10)
              for g in range(1, 30)]
    logs, calls = [], []
    for i in range(3000):
        ts = ANCHOR - timedelta(seconds=rng.randrange(0, 40 * 86400))
        logs.append(VerificationLog(
            user_id=i, group_id=-1000 - (1 + int(rng.random() ** 2 * 35)),  # some groups have no row
            status=rng.choice(["verified"] * 7 + ["restricted"] * 2 + ["error"]),
            latency_ms=None if rng.random() < 0.05 else int(20 + rng.random() ** 2 * 400) + (5000 if rng.random() < 0.02 else 0),
            cached=rng.random() < 0.4, timestamp=ts))
    for i in range(800):
        calls.append(ApiCallLog(method=rng.choice(["getChatMember"] * 5 + ["sendMessage", "getChat", "banChatMember"]),
                                success=None if rng.random() < 0.02 else rng.random() > 0.05,
                                latency_ms=None if rng.random() < 0.03 else rng.randrange(10, 600),
                                timestamp=ANCHOR - timedelta(seconds=rng.randrange(0, 40 * 86400))))
    # exactly on the window edges
    logs.append(VerificationLog(user_id=1, group_id=-1001, status="verified", latency_ms=50,
                                timestamp=ANCHOR - timedelta(days=7)))
    logs.append(VerificationLog(user_id=2, group_id=-1001, status="error", latency_ms=500, timestamp=ANCHOR))
    return groups, logs, calls


def typed(value):
    """The document with each leaf replaced by its type's name."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return type(value).__name__


async def engine_with_rows(url, tmp_path):
    assert alembic(url, "upgrade", "head", cwd=tmp_path).returncode == 0
    engine = create_async_engine(url)
    groups, logs, calls = generated_rows()
    async with AsyncSession(engine) as session:
        session.add_all(groups)
        await session.flush()
        session.add_all(logs + calls)
        await session.commit()
    return engine


@pytest.fixture
async def engines(pg_db, tmp_path):
    pg = await engine_with_rows(pg_url(pg_db), tmp_path)
    lite = await engine_with_rows(f"sqlite+aiosqlite:///{tmp_path / 'nezuko.db'}", tmp_path)
    yield Analytics(pg), Analytics(lite)
    await pg.dispose()
    await lite.dispose()


WINDOWS = [
    (ANCHOR - timedelta(days=7), ANCHOR, "UTC"),
    (ANCHOR - timedelta(days=30), ANCHOR, "Asia/Kolkata"),
    (ANCHOR - timedelta(days=45), ANCHOR + timedelta(days=1), "America/New_York"),
    (ANCHOR - timedelta(days=500), ANCHOR - timedelta(days=400), "UTC"),   # empty
    (ANCHOR, ANCHOR, "UTC"),                                              # empty (since = until)
]


async def test_the_native_path_is_used_on_postgresql(engines):
    pg, lite = engines
    async with pg.engine.connect() as conn:
        assert await pg._use_extension(conn)
    async with lite.engine.connect() as conn:
        assert not await lite._use_extension(conn)


@pytest.mark.parametrize("since,until,tz", WINDOWS)
async def test_dashboard_is_the_same_on_both_back_ends(engines, since, until, tz):
    pg, lite = engines
    native, plain = await pg.dashboard(since, until, tz), await lite.dashboard(since, until, tz)
    assert native.keys() == plain.keys()
    for key in native:
        assert native[key] == plain[key], key
        assert typed(native[key]) == typed(plain[key]), key  # the same Python type for the same figure
    if since == until:
        assert native["totals"]["verifications"] == 0 and native["top_groups"] == [] and native["api_calls"] == []


@pytest.mark.parametrize("since,until,tz", WINDOWS)
async def test_histograms_and_methods_are_the_same_on_both_back_ends(engines, since, until, tz):
    pg, lite = engines
    for source in ("verification_log", "api_call_log"):
        assert await pg.latency_histogram(since, until, source=source) == await lite.latency_histogram(since, until, source=source)
    assert await pg.latency_histogram(since, until, edges=(10, 1000)) == await lite.latency_histogram(since, until, edges=(10, 1000))
    native_methods, plain_methods = await pg.method_distribution(since, until), await lite.method_distribution(since, until)
    assert native_methods == plain_methods
    assert typed(native_methods) == typed(plain_methods)


async def test_percentiles_carry_no_binary_artifacts(engines):
    pg, lite = engines
    for client in engines:
        doc = await client.dashboard(ANCHOR - timedelta(days=30), ANCHOR, "Asia/Kolkata")
        figures = [doc["latency"][k] for k in ("p50_ms", "p95_ms", "p99_ms")]
        figures += [m[k] for m in doc["api_calls"] for k in ("p50_latency_ms", "p95_latency_ms")]
        figures += [m[k] for m in await client.method_distribution(ANCHOR - timedelta(days=30), ANCHOR)
                    for k in ("p50_latency_ms", "p95_latency_ms")]
        assert figures and all(isinstance(f, Decimal) and f == f.quantize(Decimal("0.01")) for f in figures if f is not None)


async def test_documents_are_plain_python_values(engines):
    pg, _ = engines
    doc = await pg.dashboard(ANCHOR - timedelta(days=7), ANCHOR)
    assert isinstance(doc["window"]["since"], datetime) and doc["totals"]["verifications"] > 0
    preview = await pg.prune_preview()
    assert {row["table_name"] for row in preview} >= {"api_call_log", "verification_log"}
    assert all(isinstance(row["cutoff"], datetime) for row in preview)


async def test_bad_windows_are_rejected(engines):
    for client in engines:
        with pytest.raises(ValueError):
            await client.dashboard(ANCHOR, ANCHOR - timedelta(days=1))
        with pytest.raises(ValueError):
            await client.dashboard(None)
        with pytest.raises(Exception, match="not recognized"):
            await client.dashboard(ANCHOR - timedelta(days=1), ANCHOR, "Mars/Olympus_Mons")
