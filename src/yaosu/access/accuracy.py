"""What a differentially private answer will cost and how accurate it will be, before it is
run: the noise of every output depends only on ε, the bounds and the query's shape, never on
the data, so it can be stated beforehand and matches the answer's stated accuracy exactly
(an average's depends on its group's size, which is stated per group once released).

All figures are 95% bounds: the released value is within ± the figure of the exact value
with probability 0.95 (OpenDP's accuracy functions for its own samplers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from yaosu.access.governance import Governed

ALPHA = 0.05  # 95% bounds
# The smallest ε one query may spend, and the largest: below it, OpenDP's noise scale
# (sensitivity / ε) leaves the range its samplers accept and the answer would be noise
# alone; above it, the API refuses.
MIN_EPSILON = 1e-3
MAX_EPSILON = 10.0

_OPENDP: Any = None


def _dp() -> Any:
    """OpenDP, imported on first use (it is slow to import and most requests need none)."""
    global _OPENDP
    if _OPENDP is None:
        import opendp.prelude as dp

        dp.enable_features("contrib")
        _OPENDP = dp
    return _OPENDP


@lru_cache(maxsize=256)
def threshold_for(scale: float, delta: float, floor: int) -> int:
    """The smallest integer threshold of OpenDP's Laplace threshold mechanism whose δ for one
    person's change is at most ``delta`` (and not below ``floor``, the contract's minimum
    group size)."""
    dp = _dp()
    space = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    metric = dp.l01inf_distance(dp.absolute_distance(T=int))

    def delta_of(threshold: int) -> float:
        m = dp.m.make_laplace_threshold(space, metric, scale=scale, threshold=threshold)
        return float(m.map((1, 1, 1))[1])

    lo, hi = max(floor, 1), max(floor, 1)
    while delta_of(hi) > delta:
        hi *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        if delta_of(mid) <= delta:
            hi = mid
        else:
            lo = mid + 1
    return hi


def measures(governed: Governed) -> int:
    """How many noisy measures share the query's ε: the row count, and each SUM, AVG and
    COUNT(column)."""
    return 1 + sum(
        1 for o in governed.outputs if o.kind in ("sum", "avg") or (o.kind == "count" and o.column)
    )


def count_scale(epsilon: float, governed: Governed) -> float:
    return measures(governed) / epsilon  # a count changes by one


def sum_scale(epsilon: float, governed: Governed, bounds: tuple[float, float]) -> float:
    return max(abs(bounds[0]), abs(bounds[1])) * measures(governed) / epsilon


@lru_cache(maxsize=1024)
def count_ci(scale: float) -> float:
    return float(_dp().discrete_laplacian_scale_to_accuracy(scale, ALPHA))


@lru_cache(maxsize=1024)
def sum_ci(scale: float) -> float:
    return float(_dp().laplacian_scale_to_accuracy(scale, ALPHA))


def centred_scale(epsilon: float, governed: Governed, bounds: tuple[float, float]) -> float:
    """The noise scale of an average's centred sum, Σ(x − m) with m the bounds' middle: one
    person moves it by at most half the bounds' width (less than max(|lower|, |upper|), often
    much less), which is why averages are released as m + noisy centred sum / noisy count."""
    return (bounds[1] - bounds[0]) / 2 * measures(governed) / epsilon


def average_ci(
    average: float,
    count: float,
    *,
    centred_ci: float,
    count_ci: float,
    bounds: tuple[float, float],
) -> float:
    """The 95% bound of an average released as m + noisy centred sum / noisy count: the
    centred sum's error and the count's (times the average's distance from the middle m),
    each at its own 95% bound, over the group's size; never more than the bounds' width,
    since the average is clamped to them."""
    middle = (bounds[0] + bounds[1]) / 2
    spread = (centred_ci + abs(average - middle) * count_ci) / max(1.0, count)
    return min(spread, bounds[1] - bounds[0])


def is_noise(kind: str, value: Any, ci: float, bounds: tuple[float, float] | None) -> bool:
    """An answer that says nothing: an average whose ± covers half its bounds or more, or a
    count or sum whose ± is at least its value."""
    if value is None or not isinstance(value, int | float):
        return False
    if kind == "avg" and bounds is not None:
        return ci >= (bounds[1] - bounds[0]) / 2
    return ci >= abs(float(value))


@dataclass
class Forecast:
    """What a query will cost and how accurate it will be, before anything is spent."""

    epsilon: float
    measures: int
    # per output column: {"kind", "ci95"} for COUNT and SUM; for AVG the ci95 at the group
    # size ``at`` (an average's accuracy improves with its group's size)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    threshold: int | None = None  # groups with fewer people are hidden
    partitions: int | None = None  # every declared group is released
    rows: int | None = None  # the rows of the dataset version (public in the catalog)
    hopeless: bool = False  # every group would be hidden: the query is refused unspent


def forecast(
    governed: Governed,
    *,
    epsilon: float,
    delta: float,
    bounds: dict[str, tuple[float, float]],
    min_group_size: int,
    partitions: int | None,
    rows: int | None,
) -> Forecast:
    out = Forecast(epsilon=epsilon, measures=measures(governed), partitions=partitions, rows=rows)
    if epsilon <= 0:
        return out
    c_scale = count_scale(epsilon, governed)
    grouped = bool(governed.group_keys)
    if grouped and partitions is None:
        out.threshold = threshold_for(c_scale, delta, min_group_size)
        out.hopeless = rows is not None and out.threshold > rows
    # An average's accuracy depends on its group's size: stated for the smallest group shown
    # (thresholded) or a group of typical size (the rows over the declared groups), and for
    # an average as far from the bounds' middle as it can be (so the answer's is never wider).
    if not grouped:
        at = float(rows or 1)
    elif partitions:
        at = max(1.0, float(rows or 0) / partitions)
    else:
        at = float(out.threshold or min_group_size or 1)
    for o in governed.outputs:
        if o.kind == "count":
            out.outputs[o.name] = {"kind": "count", "ci95": count_ci(c_scale)}
        elif o.kind == "sum":
            b = bounds[str(o.column)]
            out.outputs[o.name] = {"kind": "sum", "ci95": sum_ci(sum_scale(epsilon, governed, b))}
        elif o.kind == "avg":
            b = bounds[str(o.column)]
            ci = average_ci(
                b[1],
                at,
                centred_ci=sum_ci(centred_scale(epsilon, governed, b)),
                count_ci=count_ci(c_scale),
                bounds=b,
            )
            out.outputs[o.name] = {"kind": "avg", "ci95": ci, "at": int(at)}
    return out


def smallest_epsilon(
    governed: Governed,
    *,
    column: str,
    target: float,
    delta: float,
    bounds: dict[str, tuple[float, float]],
    min_group_size: int,
    partitions: int | None,
    rows: int | None,
) -> float | None:
    """The smallest ε (to three significant digits, rounded up) at which ``column``'s 95%
    bound is at most ``target``; None when even the largest ε one query may spend is not
    enough. The bound only narrows as ε grows, so a bisection finds it."""
    if not (math.isfinite(target) and target > 0):
        return None

    def meets(eps: float) -> bool:
        f = forecast(
            governed,
            epsilon=eps,
            delta=delta,
            bounds=bounds,
            min_group_size=min_group_size,
            partitions=partitions,
            rows=rows,
        )
        found = f.outputs.get(column)
        return found is not None and float(found["ci95"]) <= target and not f.hopeless

    if not meets(MAX_EPSILON):
        return None
    lo, hi = MIN_EPSILON, MAX_EPSILON
    if meets(lo):
        return lo
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if meets(mid):
            hi = mid
        else:
            lo = mid
        if hi / lo < 1.0005:
            break
    digits = 2 - math.floor(math.log10(hi))
    rounded = math.ceil(hi * 10**digits) / 10**digits
    return min(MAX_EPSILON, rounded)


def epsilon_for_threshold(
    governed: Governed, *, delta: float, min_group_size: int, rows: int
) -> float | None:
    """The smallest ε (rounded up to two significant digits) at which the group threshold is
    at most ``rows``, so that a group could be shown at all; None when no ε one query may
    spend is enough."""

    def fits(eps: float) -> bool:
        return threshold_for(count_scale(eps, governed), delta, min_group_size) <= rows

    if rows <= 0 or not fits(MAX_EPSILON):
        return None
    lo, hi = MIN_EPSILON, MAX_EPSILON
    while hi / lo > 1.01:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    digits = 1 - math.floor(math.log10(hi))
    return min(MAX_EPSILON, math.ceil(hi * 10**digits) / 10**digits)
