"""The extension's rules that the plain-SQL back end (SQLite, PostgreSQL
without the extension) computes in Python.  Their one source is the
extension: the bucket edges are the C++ core's kDefaultBucketEdges (SQL:
nezuko_analytics.default_latency_edges()), the labels its bucket_label(), the
health score nezuko_analytics.health_figures().  This is the Python copy;
tests/test_rules.py fails when it and the extension disagree."""

from decimal import Decimal

from .numeric import percent, round_numeric

# nezuko_analytics.default_latency_edges()
DEFAULT_EDGES = (50, 100, 200, 500)

# health_figures(): overall_score = sum(weight * figure), round(.., 1)
HEALTH_WEIGHTS = {"api_success_rate": Decimal("0.35"), "success_rate": Decimal("0.30"), "latency_score": Decimal("0.20"),
                  "cache_efficiency": Decimal("0.10"), "error_free_rate": Decimal("0.05")}
# (average latency below, score); no latency data scores 100, anything slower 25
LATENCY_SCORES = ((50, 100), (100, 90), (200, 75), (500, 50))
SLOWEST_LATENCY_SCORE = 25


def check_edges(edges):
    """latency_bucket_labels()'s checks: non-empty, non-negative, strictly increasing."""
    if not edges:
        raise ValueError("latency bucket edges must not be empty")
    for i, e in enumerate(edges):
        if e < 0:
            raise ValueError(f"latency bucket edges must not be negative, got {e}")
        if i and e <= edges[i - 1]:
            raise ValueError(f"latency bucket edges must be strictly increasing, got {edges[i - 1]} then {e}")


def bucket_labels(edges):
    """latency_bucket_labels(edges): '<50ms', '50-100ms', ..., '>500ms'."""
    labels = [f"<{edges[0]}ms"]
    labels += [f"{edges[i - 1]}-{edges[i]}ms" for i in range(1, len(edges))]
    labels.append(f">{edges[-1]}ms")
    return labels


def bucket_index(edges, latency):
    """The bucket [lower, upper) that holds latency (0 .. len(edges))."""
    if latency < 0:
        raise ValueError(f"latency must not be negative, got {latency} ms")
    i = 0
    while i < len(edges) and latency >= edges[i]:
        i += 1
    return i


def latency_score(avg_latency):
    if avg_latency is None:
        return 100
    for below, score in LATENCY_SCORES:
        if avg_latency < below:
            return score
    return SLOWEST_LATENCY_SCORE


def health_figures(api_calls, api_ok, verifications, cached, verified, errors, avg_latency):
    """health_figures() of the same counts (avg_latency already rounded, None without latencies)."""
    figures = {"api_success_rate": percent(api_ok, api_calls), "cache_efficiency": percent(cached, verifications),
               "success_rate": percent(verified, verifications),
               "avg_latency_ms": Decimal(0) if avg_latency is None else Decimal(avg_latency),
               "error_rate": percent(errors, verifications)}
    parts = {"api_success_rate": figures["api_success_rate"], "success_rate": figures["success_rate"],
             "latency_score": latency_score(avg_latency), "cache_efficiency": figures["cache_efficiency"],
             "error_free_rate": 100 - figures["error_rate"]}
    figures["overall_score"] = round_numeric(sum(HEALTH_WEIGHTS[k] * v for k, v in parts.items()), 1)
    return figures
