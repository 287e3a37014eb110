"""An async client for the dashboard's documents.

    from nezuko_analytics import Analytics
    analytics = Analytics(engine)                  # an SQLAlchemy AsyncEngine
    doc = await analytics.dashboard(since, until, "Asia/Kolkata")

On PostgreSQL with the extension it calls the native functions.  Elsewhere
(SQLite in development, or PostgreSQL without the extension) it computes the
same documents from plain SQL queries, with PostgreSQL's rounding, so both
back ends return the same values of the same Python types for the same rows
(docs/python.md): counts are int; rates, percentages, averages and latency
percentiles are Decimal (percentiles rounded to 0.01 ms, the daily p95 to
1 ms); a figure without data is None; times are timezone-aware datetimes."""

import json
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import text

from . import plain_charts
from .rules import DEFAULT_EDGES
from .schema import INSTALLED_EDITION_SQL

# The figures of the documents that are numeric in SQL: Decimal on every back
# end, also when JSON carries them without a fraction (round(x, 0) prints 120).
DECIMAL_FIELDS = frozenset({
    "hit_rate", "success_rate", "percentage", "avg_ms", "avg_latency_ms", "p50_ms", "p95_ms", "p99_ms",
    "p50_latency_ms", "p95_latency_ms", "api_success_rate", "cache_efficiency", "error_rate", "overall_score"})


def _decimals(value, key=None):
    """The document with every numeric figure as Decimal (see DECIMAL_FIELDS)."""
    if isinstance(value, dict):
        return {k: _decimals(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v, key) for v in value]
    if key in DECIMAL_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def _aware(value):
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


class Analytics:
    def __init__(self, engine):
        self.engine = engine
        self._extension = None

    async def _use_extension(self, conn):
        """Whether an edition of the extension (native or portable) answers here."""
        if self._extension is None:
            self._extension = conn.dialect.name == "postgresql" and (
                await conn.execute(text(INSTALLED_EDITION_SQL))).scalar() is not None
        return self._extension

    @staticmethod
    def _window(since, until):
        if since is None:
            raise ValueError("since must not be None")
        until = datetime.now(timezone.utc) if until is None else until
        since, until = _aware(since), _aware(until)
        if since > until:
            raise ValueError(f"the window starts ({since}) after it ends ({until})")
        return since, until

    async def dashboard(self, since, until=None, tz="UTC"):
        """Every chart of [since, until) in one document (the keys of nezuko_analytics.dashboard())."""
        since, until = self._window(since, until)
        async with self.engine.connect() as conn:
            if await self._use_extension(conn):
                raw = (await conn.execute(text("SELECT nezuko_analytics.dashboard(:since, :until, :tz)::text"),
                                          {"since": since, "until": until, "tz": tz})).scalar()
                doc = _decimals(json.loads(raw, parse_float=Decimal))
                doc["window"] = {"since": since, "until": until, "tz": tz}
                return doc
            return await plain_charts.dashboard(conn, since, until, tz)

    async def latency_histogram(self, since, until=None, edges=DEFAULT_EDGES, source="verification_log"):
        """[{bucket, lower_ms, upper_ms, count, percentage}] for every bucket of edges."""
        since, until = self._window(since, until)
        async with self.engine.connect() as conn:
            if await self._use_extension(conn):
                rows = await conn.execute(text(
                    "SELECT bucket, lower_ms, upper_ms, count, percentage "
                    "FROM nezuko_analytics.latency_histogram(:since, :until, :edges, :source)"),
                    {"since": since, "until": until, "edges": list(edges), "source": source})
                return [dict(r._mapping) for r in rows]
            return await plain_charts.latency_histogram(conn, since, until, list(edges), source)

    async def method_distribution(self, since, until=None):
        """API calls by method, most calls first: calls, failures, rates, avg, exact p50 and p95."""
        since, until = self._window(since, until)
        async with self.engine.connect() as conn:
            if await self._use_extension(conn):
                rows = await conn.execute(text("SELECT * FROM nezuko_analytics.method_distribution(:since, :until)"),
                                          {"since": since, "until": until})
                return [dict(r._mapping) for r in rows]
            return await plain_charts.method_distribution(conn, since, until)

    async def prune_preview(self):
        """What the retention prune would delete now: [{table_name, cutoff, rows_to_delete}]."""
        async with self.engine.connect() as conn:
            if await self._use_extension(conn):
                rows = await conn.execute(text("SELECT * FROM nezuko_analytics.prune_preview()"))
                return [dict(r._mapping) for r in rows]
            return await plain_charts.prune_preview(conn)
