"""The models insert and read back through asyncpg and aiosqlite, defaults included."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from conftest import alembic, pg_url
from nezuko_analytics import ApiCallLog, EnforcedChannel, GroupChannelLink, ProtectedGroup, VerificationLog

T0 = datetime(2026, 11, 20, 12, 30, tzinfo=timezone.utc)


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request, pg_db, tmp_path):
    u = pg_url(pg_db) if request.param == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'nezuko.db'}"
    assert alembic(u, "upgrade", "head", cwd=tmp_path).returncode == 0
    return u


async def test_models_round_trip(url):
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as session:
            session.add_all([
                ProtectedGroup(group_id=-1001, title="Group", member_count=42, last_sync_at=T0),
                ProtectedGroup(group_id=-1002),
                EnforcedChannel(channel_id=-2001, title="Channel", subscriber_count=7, last_sync_at=T0),
            ])
            await session.flush()
            session.add_all([
                GroupChannelLink(group_id=-1001, channel_id=-2001),
                VerificationLog(user_id=1, group_id=-1001, status="error", latency_ms=120, error_type="BadRequest",
                                timestamp=T0),
                VerificationLog(user_id=2, group_id=-1001, status="verified", timestamp=T0),
                ApiCallLog(method="getChatMember", chat_id=-1001, user_id=1, latency_ms=35, timestamp=T0),
                ApiCallLog(method="restrictChatMember", success=False, error_type="Forbidden", timestamp=T0),
            ])
            await session.commit()
        async with AsyncSession(engine) as session:
            g1, g2 = (await session.execute(select(ProtectedGroup).order_by(ProtectedGroup.group_id.desc()))).scalars()
            assert (g1.member_count, g1.last_sync_at.replace(tzinfo=timezone.utc)) == (42, T0)
            assert (g2.member_count, g2.enabled, g2.last_sync_at) == (0, True, None)   # defaults
            channel = (await session.execute(select(EnforcedChannel))).scalar_one()
            assert channel.subscriber_count == 7
            logs = (await session.execute(select(VerificationLog).order_by(VerificationLog.id))).scalars().all()
            assert [(v.status, v.error_type, v.cached, v.latency_ms) for v in logs] == [
                ("error", "BadRequest", False, 120), ("verified", None, False, None)]
            calls = (await session.execute(select(ApiCallLog).order_by(ApiCallLog.id))).scalars().all()
            assert [(c.method, c.success, c.error_type) for c in calls] == [
                ("getChatMember", True, None), ("restrictChatMember", False, "Forbidden")]
            assert all(c.id is not None and c.timestamp is not None for c in calls)
    finally:
        await engine.dispose()
