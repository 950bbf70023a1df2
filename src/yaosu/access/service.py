"""数据可用不可见: a consumer computes on a provider's data under its contract.

``run_query`` governs the SQL against what the contract grants (``access.governance``), asks
``decide()`` and debits one use and the query's ε in one transaction (refused: nothing is
charged), runs the rewritten query in a locked-down engine, makes the answer safe (group
suppression, or differential privacy with OpenDP), and writes the decision, the query's
hash, the rewritten query's hash, the budget and the row count to the audit log.

ε and bounds are checked before anything is charged. A query that fails before it reads any
row (the engine could not plan it, the worker died) is refunded; one that fails while reading
the data is charged and says so, because whether it fails can depend on the data, and a free
failure would be an oracle. The plan (governing and forecasting, nothing spent) is in ``plan``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from yaosu.access import dp, governance
from yaosu.access.engines import DATA_INDEPENDENT, Engine, failure, make_engine
from yaosu.access.history import deliveries
from yaosu.access.models import QueryRun
from yaosu.access.plan import (
    MAX_BOUND,
    Estimate,
    _numbers,
    _plan,
    _sha,
    run_estimate,
)
from yaosu.access.summaries import (
    SummaryTerms,
    epsilon_problem,
    release_summary,
    run_summary_terms,
    summary_problem,
)
from yaosu.access.typical import Typical, typical_accuracy
from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.operations import Operation
from yaosu.catalog import versions
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import QueryFailed, QueryFailedCharged, YaosuError
from yaosu.kernel.ids import new_id
from yaosu.lineage import service as lineage

# The planning (governing, checking, forecasting) lives in ``plan``, the typical accuracy at
# an ε (for the request form) in ``typical``; this module is the one others call, so it
# re-exports what they use.
__all__ = [
    "MAX_BOUND",
    "Estimate",
    "QueryResult",
    "SummaryTerms",
    "Typical",
    "close_engines",
    "deliveries",
    "engine_for",
    "epsilon_problem",
    "release_summary",
    "run_estimate",
    "run_extract",
    "run_granted",
    "run_query",
    "run_summary_terms",
    "summary_problem",
    "typical_accuracy",
]

_ENGINES: dict[tuple[int, str], Engine] = {}
_ENGINES_LOCK = threading.Lock()


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
    partitions: int | None = None  # public partitions: every declared group was released
    # per row, the 95% bound of each column (None for group keys and exact values)
    cells: list[list[float | None]] = field(default_factory=list)
    noise: list[list[bool]] = field(default_factory=list)  # per cell: its ± leaves it meaningless
    units: dict[str, str] = field(default_factory=dict)  # per output column, when declared
    run_id: str | None = None  # the query history entry


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
    eps, parsed = _numbers(epsilon, bounds)
    plan = _plan(
        ctx,
        actor,
        contract_id=contract_id,
        query=query,
        epsilon=eps,
        bounds=parsed,
        audit=True,
    )
    governed, grants, epsilon = plan.governed, plan.grants, plan.epsilon
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
            request={"sql": query, "epsilon": epsilon, "bounds": plan.bounds},
            detail={
                "query_sha256": _sha(governed.sql),
                "rewritten_sha256": _sha(governed.rewritten),
                "epsilon": epsilon,
                "datasets": governed.tables,
                "engine": engine or ctx.settings.query_engine,
                "public_partitions": plan.forecast.partitions,
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
            governed.rewritten, {s: p for s, p in plan.sources.items() if s in governed.rewritten}
        )
    except QueryFailed as exc:
        kind = str(exc.detail.get("kind"))
        if kind in DATA_INDEPENDENT:
            _refund(ctx, actor, contract_id, epsilon)
            raise
        _record_charged_failure(ctx, actor, contract_id, plan.consumer_org_id, kind, epsilon)
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
        min_group_size=plan.group if governed.aggregate else None,
        query_sha256=_sha(governed.sql),
        rewritten_sha256=_sha(governed.rewritten),
        engine=runner.name,
        uses=uses,
        max_uses=max_uses,
        epsilon_left=left,
        units=plan.units,
    )
    cells: list[list[float | None]] = []
    noise: list[list[bool]] = []
    try:
        if governed.aggregate and plan.private:
            released = dp.release(
                exact,
                governed,
                epsilon=epsilon,
                delta=plan.delta,
                bounds=plan.bounds,
                min_group_size=plan.group,
                declared=plan.declared,
            )
            table = released.table
            result.delta, result.accuracy = released.delta, released.accuracy
            result.threshold, result.partitions = released.threshold, released.partitions
            cells, noise = released.cells, released.noise
        elif governed.aggregate:
            table = dp.suppress_small(exact, governed)
        else:
            table = exact
    except Exception as exc:  # inputs are checked before the debit; this is a fault of ours
        _refund(ctx, actor, contract_id, epsilon)
        raise failure("release", 0) from exc
    rows = [list(r.values()) for r in table.to_pylist()]
    if governed.aggregate:
        # ORDER BY, OFFSET and LIMIT on what was released, never on the exact rows; each
        # row's bounds travel with it.
        width = len(result.columns)
        extra: list[list[Any]] = [
            [*(cells[i] if i < len(cells) else []), *(noise[i] if i < len(noise) else [])]
            for i in range(len(rows))
        ]
        ordered = governance.apply_order(
            [r + x for r, x in zip(rows, extra, strict=True)], governed
        )
        rows = [r[:width] for r in ordered]
        cells = [r[width : 2 * width] for r in ordered] if cells else []
        noise = [r[2 * width :] for r in ordered] if noise else []
    result.rows, result.cells, result.noise = rows, cells, noise
    with ctx.db.transaction() as session:
        run = QueryRun(
            id=new_id("qry"),
            contract_id=contract_id,
            consumer_org_id=plan.consumer_org_id,
            sql=query,
            query_sha256=result.query_sha256,
            epsilon=epsilon,
            delta=result.delta,
            engine=result.engine,
            aggregate=result.aggregate,
            row_count=len(result.rows),
            columns=result.columns,
            rows=[[versions.jsonable(v) for v in r] for r in rows] if result.aggregate else None,
            accuracy={"columns": result.accuracy, "cells": cells, "noise": noise},
            created_by=actor.id,
        )
        session.add(run)
        session.flush()
        used = _rows_used(exact, governed, plan.group) if governed.aggregate else len(rows)
        lineage.emit(
            session,
            actor,
            job="access.query",
            inputs=[
                replace(
                    versions.version_node(session, dataset_id=d, number=n, rows=used),
                    rows_public=not plan.private,
                )
                for d, n in plan.versions.items()
                if d in governed.tables
            ],
            outputs=[
                lineage.Node(
                    name=f"answers/{run.id}",
                    kind="answer",
                    title=f"{result.query_sha256[:12]}",
                    org_id=plan.consumer_org_id,
                    part="consumer",
                    rows=len(result.rows),
                    link=f"/query?contract={contract_id}",
                )
            ],
            audit={"action": "query.result", "object_type": "contract", "object_id": contract_id},
            contract=contract_id,
            detail={"epsilon": epsilon, "aggregate": result.aggregate, "private": plan.private},
        )
        record(
            session,
            actor,
            action="query.result",
            object_type="contract",
            object_id=contract_id,
            object_org_id=plan.consumer_org_id,
            detail={
                "query_sha256": result.query_sha256,
                "rows": len(result.rows),
                "epsilon": epsilon,
                "run": run.id,
            },
        )
        result.run_id = run.id
    return result


def _rows_used(exact: Any, governed: Any, group: int) -> int:
    """Rows an aggregate answer was computed from: the hidden per-group counts of the groups
    large enough to be shown (a suppressed group's rows delivered nothing)."""
    if "__n" not in exact.column_names:
        return int(exact.num_rows)
    return sum(int(n or 0) for n in exact.column("__n").to_pylist() if int(n or 0) >= group)


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


def _refund(ctx: Context, actor: Actor, contract_id: str, epsilon: float) -> None:
    """A query that failed while running costs nothing: its use and ε are given back."""
    with ctx.db.transaction() as session:
        authorization.refund(session, actor, contract_id=contract_id, uses=1, epsilon=epsilon)


def run_extract(
    ctx: Context, actor: Actor, *, contract_id: str, dataset_id: str, fmt: str = "parquet"
) -> Any:
    """A de-identified extract under a contract (``access.extract``, which builds on this
    module: imported here when called, for the domains above that may not import it)."""
    from yaosu.access import extract

    return extract.run_extract(ctx, actor, contract_id=contract_id, dataset_id=dataset_id, fmt=fmt)


def run_granted(
    ctx: Context,
    actor: Actor,
    *,
    contract_id: str,
    dataset_id: str,
    operation: str,
    max_rows: int | None = None,
) -> Any:
    """The policy view of a dataset under a contract, de-identified (``extract.Granted``), for
    work done where the data is: decided as a dry run, debited by the caller."""
    from yaosu.access import extract

    return extract.run_granted(
        ctx,
        actor,
        contract_id=contract_id,
        dataset_id=dataset_id,
        operation=operation,
        max_rows=max_rows or extract.MAX_ROWS,
    )
