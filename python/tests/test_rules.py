"""The Python copies of the extension's rules (rules.py, spec_data.py) agree
with the extension, their one source: a change on either side fails here."""

import itertools
import json
from decimal import Decimal

import pytest

from conftest import psql
from nezuko_analytics import rules, spec_data
from render_spec_data import fetch, render


@pytest.fixture
def ext_db(pg_db):
    psql(pg_db, "CREATE EXTENSION nezuko_analytics")
    return pg_db


def test_default_edges_are_the_extensions(ext_db):
    edges = json.loads(psql(ext_db, "SELECT array_to_json(nezuko_analytics.default_latency_edges())"))
    assert tuple(edges) == rules.DEFAULT_EDGES


@pytest.mark.parametrize("edges", [rules.DEFAULT_EDGES, (10, 1000), (0, 1), (250,)])
def test_bucket_labels_are_the_extensions(ext_db, edges):
    labels = json.loads(psql(ext_db, f"SELECT array_to_json(nezuko_analytics.latency_bucket_labels('{{{','.join(map(str, edges))}}}'))"))
    assert labels == rules.bucket_labels(edges)
    for latency in (0, 1, 9, 10, 49, 50, 99, 100, 250, 999, 1000, 5000):
        bucket = psql(ext_db, f"SELECT nezuko_analytics.latency_bucket({latency}, '{{{','.join(map(str, edges))}}}')")
        assert bucket == rules.bucket_labels(edges)[rules.bucket_index(edges, latency)], latency


def test_health_figures_are_the_extensions(ext_db):
    cases = list(itertools.product((0, 7, 1000), (0, 5, 990), (None, 0, 49, 50, 99, 100, 199, 200, 499, 500, 5000)))
    values = ", ".join(f"({calls}, {min(ok, calls)}, {'NULL' if avg is None else avg})" for calls, ok, avg in cases)
    rows = json.loads(psql(ext_db, f"""
        SELECT json_agg(json_build_array(c.calls, c.ok, c.avg, h.api_success_rate, h.cache_efficiency, h.success_rate,
                                         h.avg_latency_ms, h.error_rate, h.overall_score) ORDER BY c.n)
        FROM (SELECT row_number() OVER () AS n, * FROM (VALUES {values}) v(calls, ok, avg)) c,
             nezuko_analytics.health_figures(c.calls, c.ok, 40, 13, 29, 4, c.avg) h"""), parse_float=Decimal)
    assert len(rows) == len(cases)
    for calls, ok, avg, *figures in rows:
        py = rules.health_figures(calls, ok, 40, 13, 29, 4, avg)
        names = ["api_success_rate", "cache_efficiency", "success_rate", "avg_latency_ms", "error_rate", "overall_score"]
        assert [py[n] for n in names] == [Decimal(f) for f in figures], (calls, ok, avg)


def test_spec_data_is_generated_from_the_extension(ext_db):
    fresh = render(fetch(lambda sql: psql(ext_db, sql)))
    with open(spec_data.__file__) as committed:
        assert committed.read() == fresh, "regenerate python/nezuko_analytics/spec_data.py (see render_spec_data.py)"
