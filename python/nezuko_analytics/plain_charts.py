"""The dashboard's documents from plain SQL queries, for SQLite (development)
and PostgreSQL without the extension.  The rows of the window are read with
plain SELECTs; the figures are computed with PostgreSQL's own arithmetic
(numeric.py), so they equal the native ones."""

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text

from .numeric import average, float8_rounded, percent, percentile_cont
from .rules import DEFAULT_EDGES, bucket_index, bucket_labels, check_edges, health_figures


def _ms(value):
    """A percentile as the documents give it: numeric rounded to 0.01 ms (nezuko_analytics.round_ms())."""
    return float8_rounded(value, 2)


def _utc(value):
    if value is None:
        return None
    if isinstance(value, str):  # SQLite text written by CURRENT_TIMESTAMP or another client
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _window_sql(conn, column='"timestamp"'):
    if conn.dialect.name == "sqlite":  # by time, whatever text form the row was written in
        return f"julianday({column}) >= julianday(:since) AND julianday({column}) < julianday(:until)"
    return f"{column} >= :since AND {column} < :until"


def _params(conn, since, until):
    if conn.dialect.name == "sqlite":  # SQLite keeps UTC text
        return {"since": since.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
                "until": until.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")}
    return {"since": since, "until": until}


async def latency_histogram(conn, since, until, edges, source):
    if source not in ("verification_log", "api_call_log"):
        raise ValueError(f"latency_histogram: source must be 'verification_log' or 'api_call_log', not {source!r}")
    check_edges(edges)
    rows = await conn.execute(text(f"SELECT latency_ms FROM {source} WHERE {_window_sql(conn)} AND latency_ms IS NOT NULL"),
                              _params(conn, since, until))
    counts = [0] * (len(edges) + 1)
    for (latency,) in rows:
        counts[bucket_index(edges, latency)] += 1
    total = sum(counts)
    labels = bucket_labels(edges)
    return [{"bucket": labels[i], "lower_ms": 0 if i == 0 else edges[i - 1],
             "upper_ms": edges[i] if i < len(edges) else None, "count": counts[i],
             "percentage": percent(counts[i], total)} for i in range(len(counts))]


async def _methods(conn, since, until):
    rows = await conn.execute(text(f"SELECT method, success, latency_ms FROM api_call_log WHERE {_window_sql(conn)}"),
                              _params(conn, since, until))
    methods = defaultdict(lambda: {"calls": 0, "failures": 0, "ok": 0, "latencies": []})
    for method, success, latency in rows:
        m = methods[method]
        m["calls"] += 1
        if success is not None:
            m["ok" if success else "failures"] += 1
        if latency is not None:
            m["latencies"].append(latency)
    return methods


async def method_distribution(conn, since, until):
    methods = await _methods(conn, since, until)
    total = sum(m["calls"] for m in methods.values())
    result = []
    for name, m in sorted(methods.items(), key=lambda kv: (-kv[1]["calls"], kv[0])):
        lat = sorted(m["latencies"])
        result.append({"method": name, "calls": m["calls"], "failures": m["failures"],
                       "success_rate": percent(m["ok"], m["calls"]), "percentage": percent(m["calls"], total),
                       "avg_latency_ms": average(sum(lat), len(lat)),
                       "p50_latency_ms": _ms(percentile_cont(lat, 0.5)), "p95_latency_ms": _ms(percentile_cont(lat, 0.95))})
    return result


async def prune_preview(conn):
    now = datetime.now(timezone.utc)
    result = []
    for table in ("api_call_log", "verification_log"):
        cutoff = now - timedelta(days=90)
        n = (await conn.execute(text(f"SELECT count(*) FROM {table} WHERE {_window_sql(conn)}"),
                                _params(conn, datetime(1, 1, 2, tzinfo=timezone.utc), cutoff))).scalar()
        result.append({"table_name": table, "cutoff": cutoff, "rows_to_delete": n})
    return result


async def dashboard(conn, since, until, tz):
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f'time zone "{tz}" not recognized') from error
    rows = (await conn.execute(text(
        f'SELECT "timestamp", status, latency_ms, cached, group_id FROM verification_log WHERE {_window_sql(conn)}'),
        _params(conn, since, until))).all()

    status_counts = defaultdict(int)
    hours = [[0, 0, 0] for _ in range(24)]
    index = {"verified": 0, "restricted": 1, "error": 2}
    buckets = [0] * (len(DEFAULT_EDGES) + 1)
    latencies = []
    groups = defaultdict(lambda: [0, 0])
    days = defaultdict(lambda: {"n": 0, "ok": 0, "hits": 0, "lat": []})
    cached = 0
    for ts, status, latency, is_cached, group_id in rows:
        local = _utc(ts).astimezone(zone)
        status_counts[status] += 1
        if status in index:
            hours[local.hour][index[status]] += 1
        cached += bool(is_cached)
        g = groups[group_id]
        g[0] += 1
        day = days[local.date()]
        day["n"] += 1
        if status == "verified":
            g[1] += 1
            day["ok"] += 1
        if is_cached:
            day["hits"] += 1
        if latency is not None:
            buckets[bucket_index(DEFAULT_EDGES, latency)] += 1
            latencies.append(latency)
            day["lat"].append(latency)
    total = len(rows)
    latencies.sort()
    n_lat = len(latencies)
    avg_ms = average(sum(latencies), n_lat)

    top = sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]
    titles = {}
    if top:
        ids = ", ".join(str(int(gid)) for gid, _ in top)
        for gid, title, members in await conn.execute(text(
                f"SELECT group_id, title, member_count FROM protected_groups WHERE group_id IN ({ids})")):
            titles[gid] = (title, members)

    methods = await _methods(conn, since, until)
    api_calls = sum(m["calls"] for m in methods.values())
    api_ok = sum(m["ok"] for m in methods.values())
    api_failures = sum(m["failures"] for m in methods.values())

    health = health_figures(api_calls, api_ok, total, cached, status_counts["verified"], status_counts["error"], avg_ms)

    labels = bucket_labels(DEFAULT_EDGES)
    return {
        "window": {"since": since, "until": until, "tz": tz},
        "totals": {"verifications": total, "verified": status_counts["verified"],
                   "restricted": status_counts["restricted"], "error": status_counts["error"], "cached": cached,
                   "with_latency": n_lat, "api_calls": api_calls, "api_failures": api_failures},
        "verification_distribution": {"verified": status_counts["verified"], "restricted": status_counts["restricted"],
                                      "error": status_counts["error"], "total": total},
        "cache_breakdown": {"cached": cached, "api": total - cached, "total": total,
                            "hit_rate": percent(cached, total)},
        "hourly_activity": [{"hour": h, "label": f"{h:02d}:00", "verifications": hours[h][0],
                             "restrictions": hours[h][1], "errors": hours[h][2]} for h in range(24)],
        "latency": {
            "histogram": [{"bucket": labels[i], "lower_ms": 0 if i == 0 else DEFAULT_EDGES[i - 1],
                           "upper_ms": DEFAULT_EDGES[i] if i < len(DEFAULT_EDGES) else None, "count": buckets[i],
                           "percentage": percent(buckets[i], n_lat)} for i in range(len(buckets))],
            "p50_ms": _ms(percentile_cont(latencies, 0.5)), "p95_ms": _ms(percentile_cont(latencies, 0.95)),
            "p99_ms": _ms(percentile_cont(latencies, 0.99)), "avg_ms": avg_ms},
        "top_groups": [{"group_id": gid, "title": (titles.get(gid, (None,))[0] or f"Group {gid}"),
                        "member_count": titles.get(gid, (None, None))[1], "verifications": n,
                        "success_rate": percent(ok, n)} for gid, (n, ok) in top],
        "daily_trend": [{"date": d.isoformat(), "verifications": v["n"], "success_rate": percent(v["ok"], v["n"]),
                         "hit_rate": percent(v["hits"], v["n"]),
                         "avg_latency_ms": average(sum(v["lat"]), len(v["lat"])),
                         "p95_latency_ms": float8_rounded(percentile_cont(sorted(v["lat"]), 0.95))}
                        for d, v in sorted(days.items())],
        "api_calls": [{"method": name, "calls": m["calls"], "failures": m["failures"],
                       "success_rate": percent(m["ok"], m["calls"]), "percentage": percent(m["calls"], api_calls),
                       "avg_latency_ms": average(sum(m["latencies"]), len(m["latencies"])),
                       "p50_latency_ms": _ms(percentile_cont(sorted(m["latencies"]), 0.5)),
                       "p95_latency_ms": _ms(percentile_cont(sorted(m["latencies"]), 0.95))}
                      for name, m in sorted(methods.items(), key=lambda kv: (-kv[1]["calls"], kv[0]))],
        "bot_health": health,
    }
