"""Clearing by day in China Standard Time, T+1: a transfer at 23:59:59 CST belongs to its day
and one at 00:00:00 to the next; a day is settled only once it is clearable, once, and its
statements net to zero and agree with the reconciliation; who sees which statement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import actor, auth
from tests.market.conftest import Books
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import Forbidden, InvalidInput
from yaosu.market import service as market

DAY = market.cst_day(utcnow()) - timedelta(days=30)  # before the demo world's own trading
START = market.period_bounds(DAY)[0]  # 00:00 CST, as UTC


def test_days_are_china_standard_time_and_settled_t_plus_one(ctx: Context, books: Books) -> None:
    last_second = START + timedelta(hours=24, seconds=-1)  # 23:59:59 CST
    midnight = START + timedelta(hours=24)  # 00:00:00 CST, the next day
    assert last_second.hour == 15 and last_second.minute == 59  # 15:59:59 UTC
    assert market.cst_day(last_second) == DAY and market.cst_day(midnight) == DAY + timedelta(1)
    p = books.platform
    with ctx.db.transaction() as session:
        market.transfer(
            session,
            p,
            key="late",
            debit=books.bank,
            credit=books.escrow,
            amount=7_000,
            code="pay",
            at=last_second,
        )
        market.transfer(
            session,
            p,
            key="next",
            debit=books.bank,
            credit=books.escrow,
            amount=3_000,
            code="pay",
            at=midnight,
        )
        market.transfer(
            session,
            p,
            key="fee",
            debit=books.escrow,
            credit=books.fee,
            amount=500,
            code="operator_fee",
            at=last_second,
        )
    on_the_day = midnight + timedelta(hours=4)  # 04:00 CST the next day: DAY is T+1
    with ctx.db.transaction() as session:
        with pytest.raises(InvalidInput) as early:
            market.settle(session, p, lag_days=1, period=DAY + timedelta(1), now=on_the_day)
        assert (DAY + timedelta(2)).isoformat() in early.value.message("en")
        with pytest.raises(InvalidInput):  # T+2 refuses the same day
            market.settle(session, p, lag_days=2, period=DAY, now=on_the_day)
        made = market.settle(session, p, lag_days=1, period=DAY, now=on_the_day)
    nets = {s.org_id: s.net for s in made}
    assert nets == {
        books.orgs["platform"]: -7_000,
        books.orgs["coop"]: 6_500,
        books.orgs["ai"]: 500,
    }
    assert sum(nets.values()) == 0
    with ctx.db.transaction() as session:
        again = market.settle(session, p, lag_days=1, period=DAY, now=on_the_day)
        assert [s.id for s in again] == [s.id for s in made]
        report = market.reconciliation(session, p, lag_days=1)
        assert report["ok"], report
        assert DAY.isoformat() in report["periods"]
        assert (DAY + timedelta(1)).isoformat() in report["unsettled"]


def test_who_sees_which_statement(ctx: Context, books: Books, app_client: TestClient) -> None:
    with ctx.db.transaction() as session:
        market.transfer(
            session,
            books.platform,
            key="pay",
            debit=books.bank,
            credit=books.escrow,
            amount=100,
            code="pay",
            at=START + timedelta(hours=4),
        )
        made = market.settle(session, books.platform, lag_days=1, period=DAY)
    coops = next(s for s in made if s.org_id == books.orgs["coop"])
    coop, cac, bureau = (actor(ctx, u) for u in ("coop-manager", "cac-inspector", "bureau-admin"))
    with ctx.db.transaction() as session:
        mine = market.list_statements(session, coop)
        assert coops.id in {s.id for s in mine}
        assert {s.org_id for s in mine} == {books.orgs["coop"]}
        assert len(market.list_statements(session, cac, period=DAY)) == len(made)
        with pytest.raises(Forbidden):
            market.get_statement(session, bureau, statement_id=coops.id)
        with pytest.raises(Forbidden):
            market.settle(session, bureau, lag_days=1)
    url = f"/api/v1/market/statements/{coops.id}"
    assert app_client.get(url, headers=auth(ctx, "coop-manager")).json()["net"] == 100
    assert app_client.get(url, headers=auth(ctx, "ai-analyst")).status_code == 403
    page = app_client.get("/api/v1/market/reconciliation", headers=auth(ctx, "dsj-inspector"))
    assert page.status_code == 200 and page.json()["ok"] is True
    settled = app_client.post(
        "/api/v1/market/settlements",
        json={"period": DAY.isoformat()},
        headers=auth(ctx, "platform-admin"),
    )
    assert settled.status_code == 200 and {s["id"] for s in settled.json()} == {s.id for s in made}


def test_days_and_times_are_written_out_not_numbers(ctx: Context, app_client: TestClient) -> None:
    """pydantic alone reads 0 as 1970-01-01: a day or time given as a number is refused."""
    inspector = auth(ctx, "dsj-inspector")
    for period in ("0", "1700000000", "2026-13-01", "20260113"):
        got = app_client.get(f"/api/v1/market/statements?period={period}", headers=inspector)
        assert got.status_code == 422, (period, got.text)
        assert got.json()["error"]["detail"]["fields"][0]["field"] == "query.period"
    ok = app_client.get("/api/v1/market/statements?period=2026-01-13", headers=inspector)
    assert ok.status_code == 200
    platform = auth(ctx, "platform-admin")
    refused = app_client.post("/api/v1/market/settlements", json={"period": 0}, headers=platform)
    assert refused.status_code == 422
    bureau = actor(ctx, "bureau-admin")
    period = app_client.post(
        "/api/v1/market/periods",
        json={
            "operator_org_id": bureau.org_id,
            "starts_at": 1_700_000_000,
            "ends_at": "2027-01-01T00:00:00+08:00",
            "cost_fen": 1,
            "profit_fen": 0,
            "tax_fen": 0,
        },
        headers=auth(ctx, "dsj-inspector"),
    )
    assert period.status_code == 422
    assert period.json()["error"]["detail"]["fields"][0]["field"] == "starts_at"


def test_open_holds_are_found_by_an_anti_join(ctx: Context, backend: str) -> None:
    """Regression: the reconciliation and the expiry found unresolved holds with ``id NOT IN
    (SELECT pending_id …)``, which PostgreSQL cannot run as an anti-join (the column is
    nullable): past ``work_mem`` it rescanned the subquery for every row, and reconciling
    100,000 orders did not finish. ``NOT EXISTS`` on the unique ``pending_id`` is one."""
    from sqlalchemy import func, select, text

    from yaosu.market import ledger
    from yaosu.market.models import LedgerTransfer

    query = select(func.count()).select_from(LedgerTransfer).where(ledger.unresolved())
    with ctx.db.transaction() as session:
        if backend == "postgresql":
            compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
            plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
            assert "Anti Join" in plan and "SubPlan" not in plan, plan
        else:
            plan = " ".join(
                str(r[-1])
                for r in session.execute(text(f"EXPLAIN QUERY PLAN {query.compile(session.bind)}"))
            )
            assert "SEARCH" in plan and "pending_id" in plan, plan  # the unique index
        # and it finds what it should: each hold once, until it is resolved
        total = session.scalar(query)
        held = session.scalar(
            select(func.count())
            .select_from(LedgerTransfer)
            .where(
                LedgerTransfer.kind == "pending",
                LedgerTransfer.id.not_in(
                    select(LedgerTransfer.pending_id).where(LedgerTransfer.pending_id.is_not(None))
                ),
            )
        )
        resolving = session.scalar(
            select(func.count())
            .select_from(LedgerTransfer)
            .where(LedgerTransfer.kind != "pending", ledger.unresolved())
        )
        assert total == held + resolving
