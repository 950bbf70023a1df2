"""HTTP routes of governed use: run a query under a contract."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from yaosu.access import service
from yaosu.access.schemas import QueryAnswer, QueryCreate
from yaosu.web import CurrentActor, StateDep

router = APIRouter(prefix="/api/v1", tags=["access"])


@router.post("/queries", response_model=QueryAnswer)
async def query(body: QueryCreate, actor: CurrentActor, st: StateDep) -> QueryAnswer:
    """Run SQL (DuckDB dialect) on the datasets a contract covers. The answer is aggregated
    (groups below the minimum size removed) or, under a privacy budget, differentially
    private, with the ε it cost and its accuracy. A refused query says which clause refused
    what, and costs nothing."""
    result = await run_in_threadpool(
        service.run_query,
        st,
        actor,
        body.contract_id,
        body.sql,
        epsilon=body.epsilon,
        bounds=body.bounds,
        engine=body.engine,
    )
    return QueryAnswer(**asdict(result))
