"""Differentially private summaries of a granted table, for work that runs where the data is
(a compute-to-data job's statistics tables under a contract with a privacy budget).

The platform, never the algorithm, computes the summary: from the table the contract grants
(the job's input), one row per privacy unit (the governed query's contribution bounding, a
different row at random each time), per group the row count and, for a value column, the sum
of the values clamped to the bounds the data dictionary declares. The noise, the partition
rules (public domains: every declared group; otherwise OpenDP's Laplace threshold, chosen for
the contract's δ and not below its minimum group size) and the accuracy are the governed
query's own (``dp.release``): one way of doing differential privacy in the project.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yaosu.access import dp
from yaosu.access.accuracy import MAX_EPSILON, MIN_EPSILON
from yaosu.access.governance import Aggregate, Governed, units_of
from yaosu.access.plan import MAX_BOUND, _grants
from yaosu.authorization import service as authorization
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import Message, _

COUNT = "_n"  # the released count keeps the harness's name for the records behind a cell
MECHANISM = "OpenDP Laplace (discrete for counts)"
THRESHOLD = "OpenDP Laplace threshold"


@dataclass(frozen=True)
class SummaryTerms:
    """What a contract says of differentially private summaries of one dataset."""

    dataset_id: str
    unit: tuple[str, ...]  # the privacy unit's columns; empty: each row is a distinct person
    undeclared: Message | None  # why no summary may be released (no usable privacy unit)
    domains: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    delta: float = 0.0
    min_group_size: int = 0
    epsilon_left: float | None = None  # None: the contract has no privacy budget


def run_summary_terms(
    ctx: Context, actor: Actor, *, contract_id: str, dataset_id: str
) -> SummaryTerms:
    """The contract's terms for summaries of one of its datasets: what the governed query
    reads (the declared privacy unit, public domains and bounds of the granted columns, δ and
    the minimum group size). Nothing is spent."""
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(session, actor, contract_id=contract_id)
        grants, _sources, undeclared, public = _grants(session, ctx, actor, contract)
        left = (
            None
            if contract.epsilon_budget is None
            else contract.epsilon_budget - contract.epsilon_spent
        )
        delta = contract.delta or ctx.settings.dp_delta
        group = contract.min_group_size or ctx.settings.min_group_size
    missing = undeclared.get(dataset_id)
    why = None
    if missing is not None:
        why = (
            _(
                "the privacy unit declared for {dataset_id} names {lacking}, which its latest version lacks: the provider must declare the unit again",
                dataset_id=dataset_id,
                lacking=list(missing.missing),
            )
            if missing.missing
            else _(
                "the dataset {dataset_id} holds personal information but its provider has not declared its privacy unit, so ε cannot be counted per person",
                dataset_id=dataset_id,
            )
        )
    grant = grants[dataset_id]
    return SummaryTerms(
        dataset_id=dataset_id,
        unit=units_of(grant),
        undeclared=why,
        domains=dict(public.domains.get(dataset_id, {})),
        bounds=dict(public.bounds.get(dataset_id, {})),
        delta=float(delta),
        min_group_size=int(group),
        epsilon_left=left,
    )


def epsilon_problem(epsilon: float) -> Message | None:
    """Why ``epsilon`` cannot be spent on one release (the governed query's range), if not."""
    if not math.isfinite(epsilon) or not MIN_EPSILON <= epsilon <= MAX_EPSILON:
        return _(
            "ε must be a finite number from {low} to {high}: {epsilon}",
            low=MIN_EPSILON,
            high=MAX_EPSILON,
            epsilon=epsilon,
        )
    return None


def summary_problem(
    table: pa.Table, *, by: list[str], value: str | None, terms: SummaryTerms
) -> Message | None:
    """Why the summary cannot be released under differential privacy, if it cannot."""
    if terms.undeclared is not None:
        return terms.undeclared
    names = set(table.column_names)
    wanted = [*by, *([value] if value is not None else [])]
    if not by or len(set(wanted)) != len(wanted) or COUNT in wanted:
        return _("a summary groups by one column or more, each named once, and sums another")
    unknown = [c for c in wanted if c not in names]
    if unknown:
        return _("{columns} are not columns of the granted dataset", columns=unknown)
    lacking = [c for c in terms.unit if c not in names]
    if lacking:
        return _(
            "the privacy unit's columns {columns} are not in the granted table: contributions cannot be bounded per person",
            columns=lacking,
        )
    if value is not None:
        kind = table.schema.field(value).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            return _("{column} is not a numeric column: only numbers are summed", column=value)
        bounds = terms.bounds.get(value)
        if bounds is None:
            return _(
                "{column} has no bounds in the data dictionary: a sum under differential privacy needs the provider to declare them (lower and upper)",
                column=value,
            )
        if max(abs(bounds[0]), abs(bounds[1])) > MAX_BOUND:
            return _("{column}: declared bounds exceed {max}", column=value, max=MAX_BOUND)
    if all(k in terms.domains for k in by):
        size = math.prod(len(terms.domains[k]) for k in by)
        if size > dp.MAX_PARTITIONS:
            return _(
                "grouping by {keys} would release {size} declared groups (at most {limit}): group by fewer columns",
                keys=list(by),
                size=size,
                limit=dp.MAX_PARTITIONS,
            )
    return None


def _one_row_per_unit(table: pa.Table, unit: tuple[str, ...]) -> pa.Table:
    """Contribution bounding: one row of each privacy unit, a different one at random every
    time (as the governed query's policy view keeps); every row when each is a person."""
    if not unit or table.num_rows == 0:
        return table
    order = np.random.default_rng(secrets.randbits(128)).permutation(table.num_rows)
    shuffled = table.select(list(unit)).take(pa.array(order))
    shuffled = shuffled.append_column("__i", pa.array(np.arange(table.num_rows)))
    first = shuffled.group_by(list(unit), use_threads=False).aggregate([("__i", "min")])
    rows = order[np.asarray(first.column("__i_min"))]  # the first of each unit, shuffled
    return table.take(pa.array(np.sort(rows)))


def release_summary(
    table: pa.Table, *, by: list[str], value: str | None, terms: SummaryTerms, epsilon: float
) -> dp.Release:
    """The platform's summary of ``table`` released under differential privacy at ``epsilon``
    (check ``summary_problem`` first): the group columns, the noisy count ``_n`` and the noisy
    clamped sum under the value's name."""
    bounded = _one_row_per_unit(table, terms.unit)
    outputs = [Aggregate(k, "key", k) for k in by] + [Aggregate(COUNT, "count")]
    bounds: dict[str, tuple[float, float]] = {}
    columns: dict[str, Any] = {f"k{i}": bounded.column(k) for i, k in enumerate(by)}
    aggregations: list[tuple[str, str]] = []
    if value is not None:
        lo, hi = terms.bounds[value]
        bounds[value] = (lo, hi)
        values = pc.cast(bounded.column(value), pa.float64())
        clamped = pc.max_element_wise(pc.min_element_wise(values, hi), lo)
        columns["v"] = pc.fill_null(clamped, 0.0)
        outputs.append(Aggregate(value, "sum", value))
        aggregations.append(("v", "sum"))
    keys = list(columns)[: len(by)]
    grouped = pa.table(columns | {"__one": pa.array(np.ones(bounded.num_rows, dtype=np.int64))})
    exact = grouped.group_by(keys, use_threads=False).aggregate([("__one", "sum"), *aggregations])
    named = {k: exact.column(k) for k in keys}
    named["__n"] = exact.column("__one_sum")
    if value is not None:
        named[f"s{len(outputs) - 1}"] = exact.column("v_sum")
    governed = Governed(
        sql="",
        rewritten="",
        tables=[terms.dataset_id],
        aggregate=True,
        outputs=outputs,
        group_keys=list(by),
        count_column="__n",
    )
    declared = dp.partitions(governed, terms.domains)
    return dp.release(
        pa.table(named),
        governed,
        epsilon=epsilon,
        delta=terms.delta,
        bounds=bounds,
        min_group_size=terms.min_group_size,
        declared=declared,
    )
