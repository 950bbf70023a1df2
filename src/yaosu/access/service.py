"""数据可用不可见: a consumer computes on a provider's data under its contract.

``run_query`` governs the SQL against what the contract grants (``access.governance``), asks
``decide()`` and debits one use and the query's ε in one transaction (refused: nothing is
charged), runs the rewritten query in a locked-down engine, makes the answer safe (group
suppression, or differential privacy with OpenDP), and writes the decision, the query's
hash, the rewritten query's hash, the budget and the row count to the audit log.

ε and bounds are checked before anything is charged. A query that fails before it reads any
row (the engine could not plan it, the worker died) is refunded; one that fails while reading
the data is charged and says so, because whether it fails can depend on the data, and a free
failure would be an oracle.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from yaosu.access import dp, governance
from yaosu.access.engines import DATA_INDEPENDENT, Engine, failure, make_engine
from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.operations import Operation
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import (
    InvalidInput,
    QueryFailed,
    QueryFailedCharged,
    QueryRefused,
    YaosuError,
)
from yaosu.kernel.i18n import _
from yaosu.privacy import unit as privacy_unit
from yaosu.privacy.service import confirmed_screen, pseudonym_key

_ENGINES: dict[tuple[int, str], Engine] = {}
_ENGINES_LOCK = threading.Lock()

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


def engine_for(ctx: Context, *, name: str | None = None) -> Engine:
    """One engine of each kind per context, started on first use."""
    key = (id(ctx), name or ctx.settings.query_engine)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = make_engine(ctx.settings, key[1])
        return _ENGINES[key]


def close_engines(ctx: Context) -> None:
    with _ENGINES_LOCK:
        for key in [k for k in _ENGINES if k[0] == id(ctx)]:
            _ENGINES.pop(key).close()


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]
    aggregate: bool
    epsilon: float
    delta: float
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    threshold: int | None = None
    min_group_size: int | None = None
    query_sha256: str = ""
    rewritten_sha256: str = ""
    engine: str = "duckdb"
    uses: int = 0
    max_uses: int | None = None
    epsilon_left: float | None = None


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Undeclared:
    """A dataset that holds personal information and has no (usable) declared unit."""

    dataset_id: str
    title: str
    missing: tuple[str, ...] = ()  # declared columns the latest version lacks


def _grants(
    session: Session, ctx: Context, actor: Actor, contract: Any
) -> tuple[dict[str, governance.Grant], dict[str, Path], dict[str, _Undeclared]]:
    grants: dict[str, governance.Grant] = {}
    sources: dict[str, Path] = {}
    undeclared: dict[str, _Undeclared] = {}
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
    return grants, sources, undeclared


# The smallest ε one query may spend, and the largest bound of a SUM or AVG. Below or above
# them, OpenDP's noise scale (sensitivity / ε) leaves the range its samplers accept, and the
# answer would be noise alone; both are checked before anything is charged.
MIN_EPSILON = 1e-3
MAX_BOUND = 1e12


def _check_budget_inputs(epsilon: float, bounds: dict[str, tuple[float, float]]) -> None:
    if not math.isfinite(epsilon) or epsilon < 0:
        raise InvalidInput(problem=_("ε must be a finite number ≥ 0: {epsilon}", epsilon=epsilon))
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


def run_query(
    ctx: Context,
    actor: Actor,
    *,
    contract_id: str,
    query: str,
    epsilon: float = 0.0,
    bounds: dict[str, tuple[float, float]] | None = None,
    engine: str | None = None,
) -> QueryResult:
    try:
        bounds = {k: (float(v[0]), float(v[1])) for k, v in (bounds or {}).items()}
        epsilon = float(epsilon)
    except (TypeError, ValueError, IndexError) as exc:
        raise InvalidInput(problem=_("ε and bounds must be numbers")) from exc
    _check_budget_inputs(epsilon, bounds)
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(session, actor, contract_id=contract_id)
        grants, sources, undeclared = _grants(session, ctx, actor, contract)
        aggregate_only = Operation.extract not in contract.operations
        private = contract.epsilon_budget is not None
        group = contract.min_group_size or ctx.settings.min_group_size
        delta = contract.delta or ctx.settings.dp_delta
        operations = list(contract.operations)
    try:  # every refusal, these two included, writes its one deny entry
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
        governed = governance.govern(
            query,
            grants,
            aggregate_only=aggregate_only,
            dp=private,
            bounds=bounds,
            min_group_size=group,
        )
    except QueryRefused as exc:
        _audit_refusal(ctx, actor, contract_id, query, exc)
        raise
    if private:
        for name in governed.tables:
            if name in undeclared:
                refusal = _unit_refusal(undeclared[name])
                _audit_refusal(ctx, actor, contract_id, query, refusal)
                raise refusal
    operation = Operation.aggregate if governed.aggregate else Operation.extract
    fields = sorted({c for g in governed.tables for c in grants[g].columns})
    with ctx.db.transaction() as session:
        _decision, contract = authorization.use(
            session,
            actor,
            contract_id=contract_id,
            operation=operation,
            dataset_id=governed.tables[0],
            fields=[f for f in fields if f in grants[governed.tables[0]].columns],
            epsilon=epsilon,
        )
        for other in governed.tables[1:]:  # every dataset must be covered; one use is charged
            authorization.use(
                session,
                actor,
                contract_id=contract_id,
                operation=operation,
                dataset_id=other,
                dry_run=True,
            )
        record(
            session,
            actor,
            action="query.run",
            object_type="contract",
            object_id=contract_id,
            object_org_id=contract.consumer_org_id,
            request={"sql": query, "epsilon": epsilon, "bounds": bounds},
            detail={
                "query_sha256": _sha(governed.sql),
                "rewritten_sha256": _sha(governed.rewritten),
                "epsilon": epsilon,
                "datasets": governed.tables,
                "engine": engine or ctx.settings.query_engine,
            },
        )
        uses, max_uses = contract.uses, contract.max_uses
        left = (
            None
            if contract.epsilon_budget is None
            else contract.epsilon_budget - contract.epsilon_spent
        )
    runner = engine_for(ctx, name=engine)
    try:
        exact = runner.run(
            governed.rewritten, {s: sources[s] for s in sources if s in governed.rewritten}
        )
    except QueryFailed as exc:
        kind = str(exc.detail.get("kind"))
        if kind in DATA_INDEPENDENT:
            _refund(ctx, actor, contract_id, epsilon)
            raise
        _record_charged_failure(ctx, actor, contract_id, contract.consumer_org_id, kind, epsilon)
        raise QueryFailedCharged(**exc.detail) from None
    except YaosuError:
        _refund(ctx, actor, contract_id, epsilon)
        raise
    result = QueryResult(
        columns=[o.name for o in governed.outputs] if governed.aggregate else exact.column_names,
        rows=[],
        aggregate=governed.aggregate,
        epsilon=epsilon,
        delta=0.0,
        min_group_size=group if governed.aggregate else None,
        query_sha256=_sha(governed.sql),
        rewritten_sha256=_sha(governed.rewritten),
        engine=runner.name,
        uses=uses,
        max_uses=max_uses,
        epsilon_left=left,
    )
    try:
        if governed.aggregate and private:
            released = dp.release(
                exact, governed, epsilon=epsilon, delta=delta, bounds=bounds, min_group_size=group
            )
            table = released.table
            result.delta, result.accuracy = released.delta, released.accuracy
            result.threshold = released.threshold
        elif governed.aggregate:
            table = dp.suppress_small(exact, governed)
        else:
            table = exact
    except Exception as exc:  # inputs are checked before the debit; this is a fault of ours
        _refund(ctx, actor, contract_id, epsilon)
        raise failure("release", 0) from exc
    result.rows = [list(r.values()) for r in table.to_pylist()]
    if governed.aggregate:
        # ORDER BY, OFFSET and LIMIT on what was released, never on the exact rows.
        result.rows = governance.apply_order(result.rows, governed)
    with ctx.db.transaction() as session:
        record(
            session,
            actor,
            action="query.result",
            object_type="contract",
            object_id=contract_id,
            object_org_id=contract.consumer_org_id,
            detail={
                "query_sha256": result.query_sha256,
                "rows": len(result.rows),
                "epsilon": epsilon,
            },
        )
    return result


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


def _record_charged_failure(
    ctx: Context, actor: Actor, contract_id: str, org_id: str, kind: str, epsilon: float
) -> None:
    with ctx.db.transaction() as session:
        record(
            session,
            actor,
            action="query.failed",
            object_type="contract",
            object_id=contract_id,
            object_org_id=org_id,
            detail={"kind": kind, "epsilon": epsilon, "charged": True},
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


def _refund(ctx: Context, actor: Actor, contract_id: str, epsilon: float) -> None:
    """A query that failed while running costs nothing: its use and ε are given back."""
    with ctx.db.transaction() as session:
        authorization.refund(session, actor, contract_id=contract_id, uses=1, epsilon=epsilon)
