"""How accurate a typical private answer would be at an ε, before there is a contract: what
the request form shows beside the ε it asks for.

The typical query is the one the query page proposes first (``pages._example``): a COUNT per
value of a column with public values (every group released), with the AVG of a column with
public bounds; without such columns, a COUNT and an AVG over every row. Its forecast is the
one a governed query gets (``accuracy.forecast``), on the same shape, so the figures match
what that query's answer will state when one query spends the ε.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from yaosu.access import accuracy
from yaosu.access.accuracy import MAX_EPSILON
from yaosu.access.governance import Aggregate, Governed
from yaosu.access.plan import _check_budget_inputs
from yaosu.catalog import dictionary, versions
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _
from yaosu.kernel.settings import Settings


@dataclass
class Typical:
    """The 95% bounds of a typical COUNT and AVG at ``epsilon`` (one query spending it)."""

    epsilon: float
    capped: bool  # the ε asked for is more than one query may spend: the forecast is at the most
    count_ci: float
    rows: int
    key: str | None = None  # the column grouped by (its values are public)
    partitions: int | None = None  # how many groups it has (all released)
    column: str | None = None  # the averaged column
    bounds: tuple[float, float] | None = None
    avg_ci: float | None = None
    at: int | None = None  # the group size the average's ± is stated for
    unit: str | None = None


def typical_shape(*, key: str | None, column: str | None) -> Governed:
    """The typical query's shape as governance would give it (what the forecast reads).

    >>> [o.kind for o in typical_shape(key="town", column="fee").outputs]
    ['key', 'count', 'avg']
    >>> typical_shape(key=None, column=None).group_keys
    []
    """
    outputs = [Aggregate(name=key, kind="key")] if key else []
    outputs.append(Aggregate(name="n", kind="count"))
    if column:
        outputs.append(Aggregate(name="avg", kind="avg", column=column))
    return Governed("", "", [], True, outputs, [key] if key else [], "__n")


def typical_accuracy(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    dataset_id: str,
    epsilon: float,
    fields: list[str] | None = None,
) -> Typical:
    """The accuracy of a typical COUNT and AVG of the dataset (of ``fields`` where they
    allow: they are tried first) if one query spent ``epsilon``: at most the ε one query may spend (``capped`` says so).
    Raises InvalidInput for an ε that is not a number a query could spend."""
    if not (math.isfinite(epsilon) and epsilon > MAX_EPSILON):
        _check_budget_inputs(epsilon, {})  # not a number, negative, or too small to answer
    if epsilon == 0:
        raise InvalidInput(
            problem=_("ε must be above 0; leave it empty to ask for no privacy budget")
        )
    capped = epsilon > MAX_EPSILON
    eps = min(epsilon, MAX_EPSILON)
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
    names = [c["name"] for c in version.columns]
    # The fields asked for first, then the rest: the typical answer of this dataset.
    ordered = [n for n in names if n in (fields or [])] + [
        n for n in names if n not in (fields or [])
    ]
    domains = dictionary.public_domains(
        session, dataset_id=ds.id, version=version.number, columns=names
    )
    bounds = dictionary.public_bounds(session, dataset_id=ds.id)
    key = next((n for n in ordered if n in domains), None)
    column = next((n for n in ordered if n in bounds and n != key), None)
    shape = typical_shape(key=key, column=column)
    rows = int(version.row_count)
    found = accuracy.forecast(
        shape,
        epsilon=eps,
        delta=settings.dp_delta,
        bounds={column: bounds[column]} if column else {},
        min_group_size=settings.min_group_size,
        partitions=len(domains[key]) if key else None,
        rows=rows,
    )
    out = Typical(
        epsilon=eps,
        capped=capped,
        count_ci=float(found.outputs["n"]["ci95"]),
        rows=rows,
        key=key,
        partitions=found.partitions,
    )
    if column:
        avg = found.outputs["avg"]
        out.column, out.bounds = column, bounds[column]
        out.avg_ci, out.at = float(avg["ci95"]), int(avg["at"])
        out.unit = dictionary.units(session, dataset_id=ds.id).get(column)
    return out
