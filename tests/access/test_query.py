"""Governed SQL end to end on the demo contract: differential privacy with OpenDP, the
budget drawn down and refused when spent, refusals that cost nothing, and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.access.conftest import spent as _spent
from tests.conftest import actor
from yaosu.access import service
from yaosu.audit.models import AuditEntry
from yaosu.context import Context
from yaosu.kernel.errors import QueryRefused, YaosuError


def test_a_private_grouped_count_costs_its_epsilon_and_says_how_accurate_it_is(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    uses, spent = _spent(ctx, contract)
    result = service.run_query(
        ctx,
        coop,
        contract_id=contract,
        # the fee's values are not declared public: its groups pass a noisy threshold
        query=f'SELECT "缴费档次(元)", COUNT(*) AS n FROM {residents} GROUP BY 1',
        epsilon=0.5,
    )
    assert result.aggregate and result.columns == ["缴费档次(元)", "n"] and result.epsilon == 0.5
    assert result.threshold is not None and result.threshold >= 10 and result.delta > 0
    assert result.accuracy["n"]["ci95"] > 0 and result.rows
    assert all(n >= 0 for _, n in result.rows)
    assert _spent(ctx, contract) == (uses + 1, pytest.approx(spent + 0.5))
    with ctx.db.transaction() as session:
        logged = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "query.run", AuditEntry.object_id == contract
            )
        ).all()
    assert logged and logged[-1].detail["rewritten_sha256"] == result.rewritten_sha256


def test_refused_queries_cost_nothing_and_name_the_clause(demo: tuple[Context, str, str]) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    before = _spent(ctx, contract)
    for query, words in [
        (f"SELECT 姓名 FROM {residents}", "姓名"),
        (f"SELECT * FROM {residents}", "aggregates"),
        (f"SELECT 所属乡镇, COUNT(*) FROM {residents} GROUP BY 所属乡镇", None),
    ]:
        with pytest.raises(QueryRefused) as refused:
            service.run_query(
                ctx, coop, contract_id=contract, query=query, epsilon=0 if words is None else 0.1
            )
        if words:
            assert words in refused.value.message("en")
        else:
            assert "epsilon" in refused.value.message("en")
    assert _spent(ctx, contract) == before


def test_repeated_queries_draw_the_budget_down_until_refused(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    _, spent = _spent(ctx, contract)
    budget = 2.0
    runs = 0
    with pytest.raises(YaosuError) as stopped:
        while True:
            service.run_query(
                ctx,
                coop,
                contract_id=contract,
                query=f"SELECT COUNT(*) AS n FROM {residents}",
                epsilon=0.25,
            )
            runs += 1
            assert runs < 20
    assert runs == int((budget - spent) / 0.25 + 1e-9)
    assert "budget" in stopped.value.message("en")
    with ctx.db.transaction() as session:
        refused = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "contract.use", AuditEntry.decision == "deny")
        )
    assert refused == 0  # the refusal came from the service, not through the API's handler
