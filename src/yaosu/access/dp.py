"""Differentially private release of an aggregate query's exact per-group results, with
OpenDP's vetted samplers (never hand-written floating-point Laplace noise).

The engine returns, per group: the group keys, the row count ``__n`` and, for each SUM or
AVG, the sum of the values clamped to the declared bounds (``s<i>``), and for each
COUNT(column) its count (``c<i>``). Each privacy unit contributes one row (the rewrite
bounds contributions), so one person changes one group by one in every count and by at most
max(|lower|, |upper|) in every sum.

The budget ε of a query is split evenly over its noisy measures (the count and each sum or
column count). Which groups a grouped query shows:

- when every GROUP BY column has a **public domain** in the data dictionary, every declared
  group (the cross product of the declared values) is released, with a noisy count (zero
  when no row has it) and no threshold, and δ is 0; groups of values outside the declared
  lists are not released (public partitions);
- otherwise OpenDP's Laplace threshold mechanism: a group shows only when its noisy count
  passes a threshold chosen for δ, so that the very existence of a rare group does not reveal
  anyone.

AVG is noisy sum / noisy count, clamped to the bounds; its accuracy is stated per group.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyarrow as pa

from yaosu.access import accuracy
from yaosu.access.accuracy import _dp, threshold_for
from yaosu.access.governance import Governed
from yaosu.kernel.errors import QueryRefused
from yaosu.kernel.i18n import _

MAX_PARTITIONS = 10_000  # the most declared groups one answer releases


@dataclass
class Release:
    table: pa.Table
    epsilon: float
    delta: float
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)  # per output: scale, ci95
    threshold: int | None = None
    partitions: int | None = None  # public partitions: the number of declared groups released
    # Per released row, the 95% bound of each output (an average's depends on its group), and
    # whether that bound leaves the value meaningless (noise).
    cells: list[list[float | None]] = field(default_factory=list)
    noise: list[list[bool]] = field(default_factory=list)
    # No count of withheld groups: rows shown + groups withheld would be the exact number of
    # groups, which the noisy threshold exists to hide.


def _key(values: list[Any]) -> str:
    return json.dumps(values, ensure_ascii=False, default=str)


def partitions(
    governed: Governed, domains: dict[str, tuple[Any, ...]]
) -> list[tuple[Any, ...]] | None:
    """The declared groups of a grouped query whose every key has a public domain (their
    cross product, in the declared order); None when a key has none. Refused when there are
    more than ``MAX_PARTITIONS``: an answer that large is noise spread thin.

    >>> from yaosu.access.governance.model import Aggregate
    >>> g = Governed("", "", ["d"], True, [Aggregate("t", "key", "t")], ["t", "k"], "__n")
    >>> partitions(g, {"t": ("a", "b"), "k": (1, 2)})
    [('a', 1), ('a', 2), ('b', 1), ('b', 2)]
    >>> partitions(g, {"t": ("a", "b")}) is None
    True
    """
    keys = governed.group_keys
    if not keys or any(k not in domains for k in keys):
        return None
    size = math.prod(len(domains[k]) for k in keys)
    if size > MAX_PARTITIONS:
        raise QueryRefused(
            reason=_(
                "grouping by {keys} would release {size} declared groups (at most {limit}): group by fewer columns",
                keys=list(keys),
                size=size,
                limit=MAX_PARTITIONS,
            )
        )
    return list(itertools.product(*(domains[k] for k in keys)))


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
    declared: list[tuple[Any, ...]] | None = None,
) -> Release:
    """The noisy answer. ``declared``: the public partitions (see ``partitions``)."""
    count_scale = accuracy.count_scale(epsilon, governed)
    count_ci = accuracy.count_ci(count_scale)
    rows = exact.to_pylist()
    keys = [f"k{i}" for i in range(len(governed.group_keys))]
    threshold = None
    used_delta = 0.0
    if declared is not None:
        by_key = {_key([r[k] for k in keys]): r for r in rows}
        count = _laplace_int(count_scale)
        kept = []
        for values in declared:
            row = by_key.get(_key(list(values))) or {
                **{k: v for k, v in zip(keys, values, strict=True)},
                "__n": 0,
            }
            kept.append((row, count(int(row["__n"]))))
    elif keys:
        threshold = threshold_for(count_scale, delta, min_group_size)
        mechanism = _laplace_threshold(count_scale, threshold)
        by_key = {_key([r[k] for k in keys]): r for r in rows}
        noisy_counts = mechanism({k: int(r["__n"]) for k, r in by_key.items()})
        kept = [(by_key[k], n) for k, n in noisy_counts.items()]
        used_delta = delta
    else:
        exact_n = int(rows[0]["__n"]) if rows else 0
        kept = [(rows[0] if rows else {"__n": 0}, _laplace_int(count_scale)(exact_n))]
    stated: dict[str, dict[str, float]] = {}
    for out in governed.outputs:
        if out.kind == "count":
            stated[out.name] = {"scale": count_scale, "ci95": count_ci}
        elif out.kind == "sum":
            scale = accuracy.sum_scale(epsilon, governed, bounds[str(out.column)])
            stated[out.name] = {"scale": scale, "ci95": accuracy.sum_ci(scale)}
        elif out.kind == "avg":
            scale = accuracy.centred_scale(epsilon, governed, bounds[str(out.column)])
            stated[out.name] = {"scale": scale, "centred_ci95": accuracy.sum_ci(scale)}
    out_rows: list[dict[str, Any]] = []
    cells: list[list[float | None]] = []
    for row, noisy_n in kept:
        released: dict[str, Any] = {}
        cis: list[float | None] = []
        n_released = max(0, int(noisy_n))
        for i, out in enumerate(governed.outputs):
            if out.kind == "key":
                released[out.name] = row[f"k{governed.group_keys.index(str(out.column))}"]
                cis.append(None)
            elif out.kind == "count" and not out.column:
                released[out.name] = n_released
                cis.append(count_ci)
            elif out.kind == "count":
                exact_c = int(row.get(f"c{i}") or 0)
                released[out.name] = max(0, int(_laplace_int(count_scale)(exact_c)))
                cis.append(count_ci)
            elif out.kind == "sum":
                scale = stated[out.name]["scale"]
                exact_s = float(row.get(f"s{i}") or 0.0)
                released[out.name] = float(_laplace_float(scale)(exact_s))
                cis.append(stated[out.name]["ci95"])
            else:  # avg: the middle plus the noisy centred sum over the noisy count
                lo, hi = bounds[str(out.column)]
                middle = (lo + hi) / 2
                centred = float(row.get(f"s{i}") or 0.0) - middle * int(row["__n"])
                noisy = float(_laplace_float(stated[out.name]["scale"])(centred))
                average = min(hi, max(lo, middle + noisy / max(1, n_released)))
                released[out.name] = average
                cis.append(
                    accuracy.average_ci(
                        average,
                        n_released,
                        centred_ci=stated[out.name]["centred_ci95"],
                        count_ci=count_ci,
                        bounds=(lo, hi),
                    )
                )
        out_rows.append(released)
        cells.append(cis)
    names = [o.name for o in governed.outputs]
    table = (
        pa.Table.from_pylist(out_rows)
        if out_rows
        else pa.table({n: pa.array([], pa.null()) for n in names})
    )
    for i, out in enumerate(governed.outputs):
        if out.kind == "avg":  # an average's bound depends on its group: the widest is stated
            widest = [float(v) for c in cells if (v := c[i]) is not None]
            lo, hi = bounds[str(out.column)]
            stated[out.name]["ci95"] = max(widest) if widest else hi - lo
    return Release(
        table=table.select(names) if out_rows else table,
        epsilon=epsilon,
        delta=used_delta,
        accuracy={k: {kk: round(vv, 6) for kk, vv in v.items()} for k, v in stated.items()},
        threshold=threshold,
        partitions=None if declared is None else len(declared),
        cells=cells,
        noise=[
            [
                ci is not None
                and accuracy.is_noise(
                    out.kind,
                    row[out.name],
                    ci,
                    bounds.get(str(out.column)) if out.kind == "avg" else None,
                )
                for out, ci in zip(governed.outputs, cis, strict=True)
            ]
            for row, cis in zip(out_rows, cells, strict=True)
        ],
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
