"""PostgreSQL's arithmetic where the documents need it, so that the SQLite
back end produces exactly what the extension does: numeric rounding (half away
from zero), float8 -> numeric conversion (15 significant digits) and
percentile_cont's interpolation."""

import math
from decimal import ROUND_HALF_UP, Decimal


def round_numeric(value, digits):
    """round(value::numeric, digits) for a Decimal or int."""
    return Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def percent(part, whole):
    """round(100.0 * part / whole, 1), and 0 when whole is 0 (the contracts' rule)."""
    if not whole:
        return Decimal(0)
    return round_numeric(Decimal(100) * Decimal(part) / Decimal(whole), 1)


def average(total, count):
    """round(avg(x), 0) for integers: None when there are none."""
    if not count:
        return None
    return round_numeric(Decimal(total) / Decimal(count), 0)


def float8_rounded(value, digits=0):
    """round(value::float8::numeric, digits): float8 -> numeric keeps 15 significant digits."""
    if value is None:
        return None
    return round_numeric(Decimal(format(value, ".15g")), digits)


def percentile_cont(sorted_values, p):
    """percentile_cont(p) over sorted values (orderedsetaggs.c's arithmetic); None when empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = p * float(n - 1)
    first, second = math.floor(rank), math.ceil(rank)
    lo, hi = float(sorted_values[first]), float(sorted_values[second])
    if first == second:
        return lo
    return lo + ((rank - first) * (hi - lo))
