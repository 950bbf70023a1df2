"""Differentially private release of an aggregate query's exact per-group results, with
OpenDP's vetted samplers (never hand-written floating-point Laplace noise).

The engine returns, per group: the group keys, the row count ``__n`` and, for each SUM or
AVG, the sum of the values clamped to the declared bounds (``s<i>``), and for each
COUNT(column) its count (``c<i>``). Each privacy unit contributes one row (the rewrite
bounds contributions), so one person changes one group by one in every count and by at most
max(|lower|, |upper|) in every sum.

The budget ε of a query is split evenly over its noisy measures (the count and each sum or
column count). Counts of a grouped query are released with OpenDP's Laplace threshold
mechanism: a group shows only when its noisy count passes a threshold chosen for δ, so that
the very existence of a rare group does not reveal anyone. AVG is noisy sum / noisy count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyarrow as pa

from yaosu.access.governance import Governed

_OPENDP: Any = None


def _dp() -> Any:
    global _OPENDP
    if _OPENDP is None:
        import opendp.prelude as dp

        dp.enable_features("contrib")
        _OPENDP = dp
    return _OPENDP


@dataclass
class Release:
    table: pa.Table
    epsilon: float
    delta: float
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)  # per output: scale, ci95
    threshold: int | None = None
    # No count of withheld groups: rows shown + groups withheld would be the exact number of
    # groups, which the noisy threshold exists to hide.


@lru_cache(maxsize=256)
def _threshold(scale: float, delta: float, floor: int) -> int:
    """The smallest integer threshold whose δ for one person's change is at most ``delta``."""
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


# OpenDP measurements are built once per scale and reused: each call samples fresh noise.
@lru_cache(maxsize=512)
def _laplace_int(scale: float) -> Any:
    dp = _dp()
    return dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)


@lru_cache(maxsize=512)
def _laplace_float(scale: float) -> Any:
    dp = _dp()
    return dp.m.make_laplace(
        dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=scale
    )


@lru_cache(maxsize=256)
def _laplace_threshold(scale: float, threshold: int) -> Any:
    dp = _dp()
    space = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    metric = dp.l01inf_distance(dp.absolute_distance(T=int))
    return dp.m.make_laplace_threshold(space, metric, scale=scale, threshold=threshold)


def release(
    exact: pa.Table,
    governed: Governed,
    *,
    epsilon: float,
    delta: float,
    bounds: dict[str, tuple[float, float]],
    min_group_size: int,
) -> Release:
    dp = _dp()
    measures = 1 + sum(
        1 for o in governed.outputs if o.kind in ("sum", "avg") or (o.kind == "count" and o.column)
    )
    share = epsilon / measures
    count_scale = 1.0 / share  # a count changes by one
    rows = exact.to_pylist()
    keys = [f"k{i}" for i in range(len(governed.group_keys))]
    grouped = bool(keys)
    out_rows: list[dict[str, Any]] = []
    accuracy: dict[str, dict[str, float]] = {}
    threshold = None
    if grouped:
        threshold = _threshold(count_scale, delta, min_group_size)
        mechanism = _laplace_threshold(count_scale, threshold)
        by_key = {
            json.dumps([r[k] for k in keys], ensure_ascii=False, default=str): r for r in rows
        }
        noisy_counts = mechanism({k: int(r["__n"]) for k, r in by_key.items()})
        kept = [(by_key[k], n) for k, n in noisy_counts.items()]
        used_delta = delta
    else:
        count = _laplace_int(count_scale)
        exact_n = int(rows[0]["__n"]) if rows else 0
        kept = [(rows[0] if rows else {"__n": 0}, count(exact_n))]
        used_delta = 0.0
    ci_count = dp.discrete_laplacian_scale_to_accuracy(count_scale, 0.05)
    for out in governed.outputs:
        if out.kind == "count":
            accuracy[out.name] = {"scale": count_scale, "ci95": ci_count}
        elif out.kind in ("sum", "avg"):
            lo, hi = bounds[str(out.column)]
            sensitivity = max(abs(lo), abs(hi))
            scale = sensitivity / share
            accuracy[out.name] = {
                "scale": scale,
                "ci95": dp.laplacian_scale_to_accuracy(scale, 0.05),
            }
    for row, noisy_n in kept:
        released: dict[str, Any] = {}
        for i, out in enumerate(governed.outputs):
            if out.kind == "key":
                released[out.name] = row[f"k{governed.group_keys.index(str(out.column))}"]
            elif out.kind == "count" and not out.column:
                released[out.name] = max(0, int(noisy_n))
            elif out.kind == "count":
                released[out.name] = max(0, int(_laplace_int(count_scale)(int(row[f"c{i}"]))))
            else:
                lo, hi = bounds[str(out.column)]
                scale = max(abs(lo), abs(hi)) / share
                total = float(_laplace_float(scale)(float(row.get(f"s{i}") or 0.0)))
                if out.kind == "sum":
                    released[out.name] = total
                else:
                    released[out.name] = min(hi, max(lo, total / max(1, int(noisy_n))))
        out_rows.append(released)
    names = [o.name for o in governed.outputs]
    table = (
        pa.Table.from_pylist(out_rows)
        if out_rows
        else pa.table({n: pa.array([], pa.null()) for n in names})
    )
    return Release(
        table=table.select(names) if out_rows else table,
        epsilon=epsilon,
        delta=used_delta,
        accuracy={k: {kk: round(vv, 6) for kk, vv in v.items()} for k, v in accuracy.items()},
        threshold=threshold,
    )


def suppress_small(exact: pa.Table, governed: Governed) -> pa.Table:
    """Without a budget: the exact answer, groups below the minimum already removed by the
    rewrite (HAVING), the helper columns dropped, and columns named as the user named them."""
    rows = exact.to_pylist()
    out_rows = []
    for row in rows:
        released: dict[str, Any] = {}
        for i, out in enumerate(governed.outputs):
            if out.kind == "key":
                released[out.name] = row[f"k{governed.group_keys.index(str(out.column))}"]
            elif out.kind == "count":
                released[out.name] = int(row[f"c{i}"] if out.column else row["__n"])
            elif out.kind == "sum":
                released[out.name] = row[f"s{i}"]
            else:
                n = float(row["__n"]) or 1.0
                released[out.name] = (row[f"s{i}"] or 0.0) / n
        out_rows.append(released)
    names = [o.name for o in governed.outputs]
    if not out_rows:
        return pa.table({n: pa.array([], pa.null()) for n in names})
    return pa.Table.from_pylist(out_rows).select(names)
