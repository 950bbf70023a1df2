"""Planning a governed query: everything checked, nothing spent.

``_plan`` reads the contract and what the catalog declares about its datasets, governs the SQL
(``access.governance``), refuses what cannot be answered, and forecasts the answer's accuracy;
``run_estimate`` returns that forecast (and the ε an accuracy needs) without running anything.
``service.run_query`` charges and runs a plan. Others call these through ``access.service``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from yaosu.access import accuracy, dp, governance
from yaosu.access.accuracy import MAX_EPSILON, MIN_EPSILON, Forecast
from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.operations import Operation
from yaosu.catalog import dictionary, versions
from yaosu.catalog import service as catalog
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, QueryRefused, YaosuError
from yaosu.kernel.i18n import _
from yaosu.privacy import unit as privacy_unit
from yaosu.privacy.service import confirmed_screen, pseudonym_key

# Arrow type names (as the catalog stores them) -> SQL types for the governed schema.
_SQL_TYPES = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
    "large_string": "VARCHAR",
    "date32[day]": "DATE",
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Undeclared:
    """A dataset that holds personal information and has no (usable) declared unit."""

    dataset_id: str
    title: str
    missing: tuple[str, ...] = ()  # declared columns the latest version lacks


@dataclass
class _Public:
    """What the data dictionaries declare public, per dataset: the domains of granted
    columns, the bounds of numeric ones, and the version's row count (shown in the catalog)."""

    domains: dict[str, dict[str, tuple[Any, ...]]] = field(default_factory=dict)
    bounds: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    units: dict[str, dict[str, str]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)  # the version each dataset reads


def _grants(
    session: Session, ctx: Context, actor: Actor, contract: Any
) -> tuple[dict[str, governance.Grant], dict[str, Path], dict[str, _Undeclared], _Public]:
    grants: dict[str, governance.Grant] = {}
    sources: dict[str, Path] = {}
    undeclared: dict[str, _Undeclared] = {}
    public = _Public()
    for dataset_id, fields in contract.datasets.items():
        ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
        version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
        types = {c["name"]: _SQL_TYPES.get(str(c.get("type")), "VARCHAR") for c in version.columns}
        screen = confirmed_screen(session, dataset_id=ds.id, version=version.number)
        # The unit is what the provider declared, never a guess from the screen.
        declared = privacy_unit.declared(session, dataset_id=ds.id)
        unit: tuple[str, ...] | None = None
        if declared is not None:
            missing = tuple(c for c in declared.columns if c not in types)
            if missing:
                undeclared[dataset_id] = _Undeclared(dataset_id, ds.title, missing)
            unit = tuple(declared.columns) or None
        elif screen is None or screen.personal:
            undeclared[dataset_id] = _Undeclared(dataset_id, ds.title)
        source = f"__src_{version.sha256[:24]}"
        grants[dataset_id] = governance.Grant(
            dataset_id=dataset_id,
            source=source,
            columns={f: types[f] for f in fields if f in types},
            all_columns=frozenset(types),
            masks=dict((contract.masks or {}).get(dataset_id, {})),
            row_filter=(contract.row_filters or {}).get(dataset_id),
            unit=unit,
            mask_key=pseudonym_key(ctx.settings, dataset_id).hex(),
        )
        sources[source] = ctx.store.path(version.sha256)
        granted = [f for f in fields if f in types]
        domains = dictionary.public_domains(
            session, dataset_id=ds.id, version=version.number, columns=list(types)
        )
        public.domains[dataset_id] = {c: d for c, d in domains.items() if c in granted}
        public.bounds[dataset_id] = {
            c: b
            for c, b in dictionary.public_bounds(session, dataset_id=ds.id).items()
            if c in granted
        }
        public.rows[dataset_id] = int(version.row_count)
        public.versions[dataset_id] = version.number
        public.units[dataset_id] = dictionary.units(session, dataset_id=ds.id)
    return grants, sources, undeclared, public


# The largest bound of a SUM or AVG (and ε's range, in ``accuracy``): beyond them, OpenDP's
# noise scale (sensitivity / ε) leaves the range its samplers accept, and the answer would be
# noise alone; both are checked before anything is charged.
MAX_BOUND = 1e12


def _check_budget_inputs(epsilon: float, bounds: dict[str, tuple[float, float]]) -> None:
    if not math.isfinite(epsilon) or epsilon < 0:
        raise InvalidInput(problem=_("ε must be a finite number ≥ 0: {epsilon}", epsilon=epsilon))
    if epsilon > MAX_EPSILON:
        raise InvalidInput(
            problem=_(
                "ε may be at most {MAX_EPSILON} for one query: {epsilon}",
                MAX_EPSILON=MAX_EPSILON,
                epsilon=epsilon,
            )
        )
    if 0 < epsilon < MIN_EPSILON:
        raise InvalidInput(
            problem=_(
                "ε must be at least {MIN_EPSILON} (a smaller one answers nothing but noise): {epsilon}",
                MIN_EPSILON=MIN_EPSILON,
                epsilon=epsilon,
            )
        )
    for column, (lo, hi) in bounds.items():
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise InvalidInput(problem=_("{column}: bounds must be finite numbers", column=column))
        if not lo < hi:
            raise InvalidInput(
                problem=_("{column}: the lower bound must be below the upper", column=column)
            )
        if max(abs(lo), abs(hi)) > MAX_BOUND:
            raise InvalidInput(
                problem=_(
                    "{column}: bounds may not exceed {MAX_BOUND} in absolute value",
                    column=column,
                    MAX_BOUND=format(MAX_BOUND, "g"),
                )
            )


@dataclass
class _Plan:
    """A governed query ready to be charged and run: everything is checked, nothing spent."""

    contract_id: str
    consumer_org_id: str
    governed: governance.Governed
    grants: dict[str, governance.Grant]
    sources: dict[str, Path]
    epsilon: float
    delta: float
    bounds: dict[str, tuple[float, float]]
    private: bool
    group: int
    declared: list[tuple[Any, ...]] | None
    forecast: Forecast
    units: dict[str, str]  # output column -> the unit of the column it sums or averages
    epsilon_left: float | None  # the budget left when the plan was made (None: no budget)
    versions: dict[str, int] = field(default_factory=dict)  # dataset -> the version read


def _numbers(
    epsilon: Any, bounds: dict[str, Any] | None
) -> tuple[float, dict[str, tuple[float, float]]]:
    try:
        parsed = {k: (float(v[0]), float(v[1])) for k, v in (bounds or {}).items()}
        eps = float(epsilon)
    except (TypeError, ValueError, IndexError) as exc:
        raise InvalidInput(problem=_("ε and bounds must be numbers")) from exc
    _check_budget_inputs(eps, parsed)
    return eps, parsed


def _plan(
    ctx: Context,
    actor: Actor,
    *,
    contract_id: str,
    query: str,
    epsilon: float,
    bounds: dict[str, tuple[float, float]],
    audit: bool,
) -> _Plan:
    """Governs the query under the contract and forecasts its accuracy; a refusal is audited
    when ``audit`` (a run), not for a forecast (which reads no data and spends nothing)."""
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(session, actor, contract_id=contract_id)
        grants, sources, undeclared, public = _grants(session, ctx, actor, contract)
        aggregate_only = Operation.extract not in contract.operations
        private = contract.epsilon_budget is not None
        group = contract.min_group_size or ctx.settings.min_group_size
        delta = contract.delta or ctx.settings.dp_delta
        operations = list(contract.operations)
        consumer = contract.consumer_org_id
        aliases = dict(contract.aliases or {})
        budget = contract.epsilon_budget
        left = None if budget is None else budget - contract.epsilon_spent
    try:  # every refusal, these included, writes its one deny entry
        if Operation.aggregate not in operations and aggregate_only:
            raise QueryRefused(
                reason=_("contract {contract_id} does not permit queries", contract_id=contract_id),
            )
        if private and epsilon <= 0:
            raise QueryRefused(
                reason=_(
                    "contract {contract_id} requires differential privacy: give this query an ε (epsilon)",
                    contract_id=contract_id,
                ),
            )
        # A differentially private query reads one dataset: its declared public bounds are
        # the defaults, and what the analyst gives wins.
        first = next(iter(grants), "")
        bounds = {**public.bounds.get(first, {}), **bounds}
        governed = governance.govern(
            query,
            grants,
            aggregate_only=aggregate_only,
            dp=private,
            bounds=bounds,
            min_group_size=group,
            aliases=aliases,
        )
        table = governed.tables[0] if governed.tables else first
        if private:
            for name in governed.tables:
                if name in undeclared:
                    raise _unit_refusal(undeclared[name])
        declared = (
            dp.partitions(governed, public.domains.get(table, {}))
            if private and governed.aggregate
            else None
        )
        forecast = accuracy.forecast(
            governed,
            epsilon=epsilon if private and governed.aggregate else 0.0,
            delta=delta,
            bounds=bounds,
            min_group_size=group,
            partitions=None if declared is None else len(declared),
            rows=public.rows.get(table),
        )
        if forecast.hopeless:
            raise _hopeless(governed, forecast, delta=delta, group=group)
    except QueryRefused as exc:
        if audit:
            _audit_refusal(ctx, actor, contract_id, query, exc)
        raise
    return _Plan(
        contract_id=contract_id,
        consumer_org_id=consumer,
        governed=governed,
        grants=grants,
        sources=sources,
        epsilon=epsilon,
        delta=delta,
        bounds=bounds,
        private=private,
        group=group,
        declared=declared,
        forecast=forecast,
        epsilon_left=left,
        versions=dict(public.versions),
        units={
            o.name: unit
            for o in governed.outputs
            if o.kind in ("sum", "avg") and (unit := public.units.get(table, {}).get(str(o.column)))
        },
    )


def _hopeless(
    governed: governance.Governed, forecast: Forecast, *, delta: float, group: int
) -> QueryRefused:
    """Every group would be hidden: say why, and what would answer."""
    needed = accuracy.epsilon_for_threshold(
        governed, delta=delta, min_group_size=group, rows=int(forecast.rows or 0)
    )
    return QueryRefused(
        reason=_(
            "at ε = {epsilon} a group is shown only when about {threshold} or more people are in it, and the dataset has {rows} rows: every group would be hidden, so the query was not run and nothing was spent. {remedy}",
            epsilon=forecast.epsilon,
            threshold=forecast.threshold,
            rows=forecast.rows,
            remedy=_(
                "Use ε ≥ {needed}, group by fewer columns, or ask the provider to declare the public values of {keys} in the data dictionary.",
                needed=needed,
                keys=list(governed.group_keys),
            )
            if needed is not None
            else _(
                "Group by fewer columns, or ask the provider to declare the public values of {keys} in the data dictionary.",
                keys=list(governed.group_keys),
            ),
        ),
    )


@dataclass
class Estimate:
    """A query's cost and accuracy before it runs, and the ε an accuracy needs."""

    forecast: Forecast
    epsilon_left: float | None
    units: dict[str, str] = field(default_factory=dict)
    suggested_epsilon: float | None = None  # the smallest ε meeting the target
    target_column: str | None = None
    target: float | None = None


def run_estimate(
    ctx: Context,
    actor: Actor,
    *,
    contract_id: str,
    query: str,
    epsilon: float = 0.0,
    bounds: dict[str, tuple[float, float]] | None = None,
    target_column: str | None = None,
    target: float | None = None,
) -> Estimate:
    """What the query would cost and how accurate its answer would be, and, given a target
    ± for one output column, the smallest ε that meets it. Nothing is charged or run."""
    eps, parsed = _numbers(epsilon, bounds)
    plan = _plan(
        ctx,
        actor,
        contract_id=contract_id,
        query=query,
        epsilon=eps,
        bounds=parsed,
        audit=False,
    )
    out = Estimate(forecast=plan.forecast, epsilon_left=plan.epsilon_left, units=plan.units)
    if target is not None and plan.private and plan.governed.aggregate:
        column = target_column or next(
            (n for n, o in plan.forecast.outputs.items() if o["kind"] != "key"), None
        )
        if column is None or column not in plan.forecast.outputs:
            raise InvalidInput(
                problem=_(
                    "{column} is not a noisy output of this query", column=target_column or ""
                )
            )
        out.target_column, out.target = column, target
        out.suggested_epsilon = accuracy.smallest_epsilon(
            plan.governed,
            column=column,
            target=target,
            delta=plan.delta,
            bounds=plan.bounds,
            min_group_size=plan.group,
            partitions=plan.forecast.partitions,
            rows=plan.forecast.rows,
        )
    return out


def _unit_refusal(missing: _Undeclared) -> QueryRefused:
    if missing.missing:
        return QueryRefused(
            reason=_(
                "the privacy unit declared for {dataset_id} names {lacking}, which its latest "
                "version lacks: the provider must declare the unit again before differentially "
                "private queries are answered",
                dataset_id=missing.dataset_id,
                lacking=list(missing.missing),
                title=missing.title,
            ),
            dataset=missing.dataset_id,
        )
    return QueryRefused(
        reason=_(
            "the dataset {dataset_id} holds personal information but its provider has not declared its privacy unit (which column or columns name one person, or that each row is a distinct person); differential privacy counts ε per person, so the provider must declare it before such queries are answered",
            dataset_id=missing.dataset_id,
            title=missing.title,
        ),
        dataset=missing.dataset_id,
    )


def _audit_refusal(
    ctx: Context, actor: Actor, contract_id: str, query: str, exc: YaosuError
) -> None:
    with ctx.db.transaction() as session:
        record(
            session,
            actor,
            action="query.run",
            object_type="contract",
            object_id=contract_id,
            allowed=False,
            reason=exc.message("en"),
            request={"sql": query},
            detail={"query_sha256": _sha(query)},
        )
