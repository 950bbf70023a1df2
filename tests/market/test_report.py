"""The operator's annual report (年度经营情况报告), on both backends: every figure comes from
the ledger and the orders (the demo's accepted, free and disputed orders, then one more of
each kind), the operator and oversight read it, others cannot tell it exists."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import actor, auth
from tests.market.test_orders import contract, paid, place
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.market import service as market
from yaosu.market.models import Order, RevenuePeriod

AI = "ai-analyst"


def report(app_client: TestClient, ctx: Context, user: str = AI, **over: object) -> object:
    params = {"operator_org_id": actor(ctx, AI).org_id, "year": market.cst_day(utcnow()).year}
    return app_client.get(
        "/api/v1/market/annual-report", params=params | over, headers=auth(ctx, user)
    )


def test_the_report_is_the_ledger_and_the_orders(app_client: TestClient, ctx: Context) -> None:
    before = report(app_client, ctx).json()
    accepted = paid(app_client, ctx, quantity=1200)  # ¥500 + 200 × ¥0.30 = ¥560.00
    done = app_client.post(
        f"/api/v1/market/orders/{accepted['id']}/acceptance", headers=auth(ctx, "coop-manager")
    )
    assert done.status_code == 200, done.text
    free = contract(app_client, ctx, place(app_client, ctx, purpose="public_welfare", quantity=80))
    disputed = paid(app_client, ctx, quantity=10)
    assert app_client.post(
        f"/api/v1/market/orders/{disputed['id']}/dispute",
        json={"reason": "交付的统计口径与产品说明不符。"},
        headers=auth(ctx, "coop-manager"),
    ).is_success
    after = report(app_client, ctx).json()
    earned = accepted["seller_fen"] + accepted["operator_fee_fen"]
    assert after["revenue"]["total_fen"] == before["revenue"]["total_fen"] + earned
    assert after["revenue"]["operator_fee_fen"] == (
        before["revenue"]["operator_fee_fen"] + accepted["operator_fee_fen"]
    )
    ai_org = actor(ctx, AI).org_id
    with ctx.db.transaction() as session:
        period = session.scalar(
            select(RevenuePeriod).where(
                RevenuePeriod.operator_org_id == actor(ctx, AI).org_id,
                RevenuePeriod.status == "open",
            )
        )
        assert period is not None
        assert [p["revenue_fen"] for p in after["periods"]] == [period.revenue_fen]
        # the period counts the capped (public-data) sales the ledger released, and only those
        capped = session.scalar(
            select(func.sum(Order.seller_fen + Order.operator_fee_fen)).where(
                Order.seller_org_id == ai_org,
                Order.pricing_class == "capped",
                Order.status == "accepted",
            )
        )
        assert period.revenue_fen == capped
        sold = session.scalar(
            select(func.sum(Order.quantity)).where(
                Order.product_id == accepted["product_id"],
                Order.status == "accepted",
                Order.amount_fen > 0,
            )
        )
    product = next(p for p in after["products"] if p["id"] == accepted["product_id"])
    assert product["units"] == sold and product["within_cap"] is True
    assert product["cap_unit_fen"] == 60 and product["highest_unit_fen"] == 50
    assert free["status"] == "delivering"
    assert after["free_service"]["units"] == before["free_service"]["units"] + 80
    assert after["free_service"]["by_purpose"]["public_welfare"] >= 80
    assert after["disputes"]["count"] == before["disputes"]["count"] + 1
    assert after["disputes"]["open"] == before["disputes"]["open"] + 1
    assert disputed["id"] in {d["order"] for d in after["disputes"]["items"]}


def test_the_operator_and_oversight_read_it_others_cannot_tell(
    app_client: TestClient, ctx: Context
) -> None:
    for user in (AI, "dsj-inspector", "platform-admin"):
        assert report(app_client, ctx, user).status_code == 200, user
    for user in ("coop-manager", "bureau-admin"):
        assert report(app_client, ctx, user).status_code == 404, user
    assert report(app_client, ctx, AI, year=1999).status_code == 422
    unknown = report(app_client, ctx, "dsj-inspector", operator_org_id="org_nope")
    assert unknown.status_code == 404
    page = app_client.get(
        "/market/annual-report", headers=auth(ctx, "dsj-inspector") | {"Accept-Language": "zh-CN"}
    )
    assert page.status_code == 200 and "智谷人工智能科技有限公司" in page.text
