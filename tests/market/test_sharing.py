"""Revenue shares on the ledger, on both backends: a released order's seller-side amount is
split by the rule frozen when it was placed, each party's share held from the seller's
revenue until its objection window closes and then paid, money conserved to the fen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import auth
from tests.market.conftest import org_ids
from tests.market.test_ledger import check_books
from tests.market.test_orders import COOP, EN, P, balances, get, moved, paid, product_id
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.market import orders as orders_
from yaosu.market import service as market
from yaosu.market import sharing
from yaosu.market.models import LedgerAccount, Order, Product, ShareLine


def set_rule(ctx: Context, rule: dict[str, Any]) -> str:
    pid = product_id(ctx)
    with ctx.db.transaction() as session:
        product = session.get(Product, pid)
        assert product is not None
        product.sharing = rule
    return pid


def pending_credit(ctx: Context, org_id: str) -> int:
    with ctx.db.transaction() as session:
        account = session.get(
            LedgerAccount, market.open_account(session, org_id=org_id, code="revenue")
        )
        assert account is not None
        return int(account.credits_pending)


def finished(app_client: TestClient, ctx: Context, location: str) -> dict[str, Any]:
    """The task at ``location`` once it ended: run here, or by the app's own worker (the
    deadline only stops a hang; nothing is timed)."""
    import time

    from yaosu.tasks import service as tasks

    deadline = time.monotonic() + 300
    while True:
        tasks.run_one(ctx, name="test-worker")
        found = dict(app_client.get(location, headers=auth(ctx, "ai-analyst")).json())
        if found["status"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def due_elsewhere(ctx: Context, order_id: str, at: Any) -> dict[tuple[str, str], int]:
    """What the other held shares due by ``at`` will pay: to each party, from each seller."""
    out: dict[tuple[str, str], int] = {}
    with ctx.db.transaction() as session:
        for line in session.scalars(
            select(ShareLine).where(
                ShareLine.order_id != order_id,
                ShareLine.status == "held",
                ShareLine.objection_ends_at <= at,
            )
        ):
            out[("to", line.org_id)] = out.get(("to", line.org_id), 0) + line.amount_fen
            key = ("from", line.seller_org_id)
            out[key] = out.get(key, 0) + line.amount_fen
    return out


def lines(ctx: Context, order_id: str) -> list[ShareLine]:
    with ctx.db.transaction() as session:
        found = sharing.lines_of(session, order_id=order_id)
        session.expunge_all()
        return found


def test_a_released_order_pays_each_share_after_its_objection_window(
    app_client: TestClient, ctx: Context
) -> None:
    orgs = org_ids(ctx)
    seller, holder = orgs["ai"], orgs["bureau"]  # the AI company sells the bureau's data
    set_rule(
        ctx,
        {
            "pool_bp": 5000,
            "method": "declared",
            "roles": [{"org_id": holder, "role": "cleaning", "bp": 1000}],
            "declared": {holder: 1},
        },
    )
    order = paid(app_client, ctx)
    # the rule is frozen into the order: changing the product's now changes nothing for it
    set_rule(ctx, {})
    seller_before, holder_before = balances(ctx, seller), balances(ctx, holder)
    pending_before = pending_credit(ctx, holder)
    done = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, COOP) | EN
    )
    assert done.status_code == 200, done.text
    with ctx.db.transaction() as session:
        row = session.get(Order, order["id"])
        assert row is not None and row.terms["sharing"]["pool_bp"] == 5000
        assert row.terms["contributors"] == {row.terms["sources"][0]["dataset_id"]: holder}
        seller_fen = row.seller_fen
    got = {line.kind: line for line in lines(ctx, order["id"])}
    assert set(got) == {"role", "contributor"}  # the seller's rest is not a line
    role, pool = got["role"], got["contributor"]
    assert {role.org_id, pool.org_id} == {holder}
    assert role.status == pool.status == "held" and role.transfer_id and pool.transfer_id
    # 10% and 50% of the seller side, to the fen by the largest remainder
    assert abs(role.amount_fen - seller_fen / 10) < 1
    assert abs(pool.amount_fen - seller_fen / 2) < 1
    assert pool.evidence["method"] == "declared" and pool.evidence["weight"] == 1
    shared = role.amount_fen + pool.amount_fen
    # held from the seller's revenue: the seller cannot spend it, the holder has it pending
    assert moved(ctx, seller, seller_before)["revenue"] == (seller_fen, -shared)
    assert moved(ctx, holder, holder_before).get("revenue", (0, 0)) == (0, 0)
    assert pending_credit(ctx, holder) - pending_before == shared
    # before the window closes nothing moves; after it every share is paid
    with ctx.db.transaction() as session:
        orders_.advance_all(session, settings=ctx.settings)
    assert {line.status for line in lines(ctx, order["id"])} == {"held"}
    later = utcnow() + timedelta(days=ctx.settings.share_objection_days, seconds=1)
    # the demo's own held shares fall due then too: what they move is counted apart
    others = due_elsewhere(ctx, order["id"], later)
    with ctx.db.transaction() as session:
        orders_.advance_all(session, settings=ctx.settings, now=later)
    after = lines(ctx, order["id"])
    assert {line.status for line in after} == {"paid"}
    assert all(line.settled_at is not None for line in after)
    assert moved(ctx, holder, holder_before)["revenue"][0] == shared + others.get(("to", holder), 0)
    assert pending_credit(ctx, holder) == pending_before - others.get(("to", holder), 0)
    assert moved(ctx, seller, seller_before)["revenue"][0] == (
        seller_fen - shared - others.get(("from", seller), 0) + others.get(("to", seller), 0)
    )
    with ctx.db.transaction() as session:
        check_books(session)
    assert get(app_client, ctx, order["id"]).json()["status"] == "accepted"


def test_an_order_without_a_rule_pays_the_seller_alone(
    app_client: TestClient, ctx: Context
) -> None:
    set_rule(ctx, {})
    order = paid(app_client, ctx)
    done = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, COOP) | EN
    )
    assert done.status_code == 200, done.text
    assert lines(ctx, order["id"]) == []
    with ctx.db.transaction() as session:
        assert session.scalar(select(ShareLine.id).where(ShareLine.order_id == order["id"])) is None


def _accepted_with_shares(app_client: TestClient, ctx: Context) -> tuple[dict[str, Any], str]:
    orgs = org_ids(ctx)
    holder = orgs["bureau"]
    set_rule(ctx, {"pool_bp": 6000, "method": "declared", "declared": {holder: 1}})
    order = paid(app_client, ctx)
    done = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, COOP) | EN
    )
    assert done.status_code == 200, done.text
    (line,) = lines(ctx, order["id"])
    return order, line.id


def test_an_objection_freezes_a_share_until_it_is_decided(
    app_client: TestClient, ctx: Context
) -> None:
    orgs = org_ids(ctx)
    seller, holder = orgs["ai"], orgs["bureau"]
    order, line_id = _accepted_with_shares(app_client, ctx)
    held = lines(ctx, order["id"])[0].amount_fen
    seller_before = balances(ctx, seller)
    # the statement shows it, with how it was valued
    today = utcnow() + timedelta(hours=8)
    statement = app_client.get(
        "/api/v1/market/shares/statement",
        params={"org_id": holder, "year": today.year, "month": today.month},
        headers=auth(ctx, "bureau-admin"),
    )
    assert statement.status_code == 200, statement.text
    body = statement.json()
    mine = next(x for x in body["lines"] if x["id"] == line_id)
    assert mine["evidence"]["method"] == "declared" and mine["status"] == "held"
    assert body["total_fen"] == sum(x["amount_fen"] for x in body["lines"])
    assert body["totals"]["held"] >= held
    # no one else reads the bureau's statement; the coop (the buyer) sees no share at all
    other = app_client.get(
        "/api/v1/market/shares/statement",
        params={"org_id": holder, "year": today.year, "month": today.month},
        headers=auth(ctx, COOP),
    )
    assert other.status_code == 404
    mine = app_client.get("/api/v1/market/shares", headers=auth(ctx, COOP)).json()
    assert line_id not in {x["id"] for x in mine["items"]}
    # only the party's members object, with a reason
    url = f"/api/v1/market/shares/{line_id}/objection"
    why = {"reason": "我方数据贡献被低估，请按约定重新计算。"}
    assert app_client.post(url, json=why, headers=auth(ctx, "ai-analyst")).status_code == 403
    assert (
        app_client.post(url, json={"reason": "短"}, headers=auth(ctx, "bureau-admin")).status_code
        == 422
    )
    made = app_client.post(url, json=why, headers=auth(ctx, "bureau-admin") | EN)
    assert made.status_code == 201, made.text
    objection = made.json()
    assert lines(ctx, order["id"])[0].status == "frozen"
    again = app_client.post(url, json=why, headers=auth(ctx, "bureau-admin") | EN)
    assert again.status_code == 409
    # a frozen share is not paid when its window closes
    later = utcnow() + timedelta(days=ctx.settings.share_objection_days, seconds=1)
    others = due_elsewhere(ctx, order["id"], later)
    with ctx.db.transaction() as session:
        orders_.advance_all(session, settings=ctx.settings, now=later)
    assert lines(ctx, order["id"])[0].status == "frozen"
    # a regulator decides only once a party asked it; the platform may always
    decision = {
        "outcome": "amount",
        "note": "经核实，按实际贡献调整分成金额。",
        "amount_fen": held // 2,
    }
    decide = f"/api/v1/market/objections/{objection['id']}/decision"
    assert (
        app_client.post(decide, json=decision, headers=auth(ctx, "dsj-inspector")).status_code
        == 403
    )
    asked = app_client.post(
        f"/api/v1/market/objections/{objection['id']}/escalation",
        headers=auth(ctx, "bureau-admin"),
    )
    assert asked.status_code == 200 and asked.json()["status"] == "escalated"
    ruled = app_client.post(decide, json=decision, headers=auth(ctx, "dsj-inspector") | EN)
    assert ruled.status_code == 200, ruled.text
    assert ruled.json()["status"] == "upheld"
    assert ruled.json()["outcome"]["amount_fen"] == held // 2
    final = lines(ctx, order["id"])[0]
    assert final.status == "paid" and final.amount_fen == held // 2
    assert final.evidence["held_fen"] == held
    # half was paid; the other half went back to the seller's available revenue
    posted, pending = moved(ctx, seller, seller_before)["revenue"]
    assert posted == -(held // 2) - others.get(("from", seller), 0) + others.get(("to", seller), 0)
    assert pending == held + others.get(("from", seller), 0)
    assert app_client.post(decide, json=decision, headers=auth(ctx, P)).status_code == 409
    with ctx.db.transaction() as session:
        check_books(session)


def test_a_share_is_objected_to_only_while_it_is_held(app_client: TestClient, ctx: Context) -> None:
    _order, line_id = _accepted_with_shares(app_client, ctx)
    later = utcnow() + timedelta(days=ctx.settings.share_objection_days, seconds=1)
    with ctx.db.transaction() as session:
        orders_.advance_all(session, settings=ctx.settings, now=later)
    late = app_client.post(
        f"/api/v1/market/shares/{line_id}/objection",
        json={"reason": "我方数据贡献被低估，请按约定重新计算。"},
        headers=auth(ctx, "bureau-admin") | EN,
    )
    assert late.status_code == 409 and "held" in late.json()["error"]["message"]
    missing = app_client.post(
        "/api/v1/market/shares/shl_nope/objection",
        json={"reason": "我方数据贡献被低估，请按约定重新计算。"},
        headers=auth(ctx, "bureau-admin"),
    )
    assert missing.status_code == 404


def test_a_valuation_runs_in_the_background_and_repeats_itself_from_its_seed(
    app_client: TestClient, ctx: Context
) -> None:
    from yaosu.market.models import Valuation

    with ctx.db.transaction() as session:
        forecast = session.scalar(select(Product).where(Product.title.contains("农资需求预测")))
        assert forecast is not None
        pid = forecast.id
        first = sharing.latest_valuation(session, product_id=pid, method="shapley")
        assert first is not None
        values, seed = dict(first.values), first.seed
    queued = app_client.post(
        f"/api/v1/market/products/{pid}/valuations", headers=auth(ctx, "ai-analyst")
    )
    assert queued.status_code == 202, queued.text
    assert queued.headers["location"] == f"/api/v1/tasks/{queued.json()['id']}"
    done = finished(app_client, ctx, queued.headers["location"])
    assert done["status"] == "done", done
    latest = app_client.get(f"/api/v1/market/products/{pid}/valuations/latest").json()
    assert latest["id"] == done["result"]["valuation"] and latest["seed"] == seed
    assert latest["values"] == values  # the same seed, the same split, to the last digit
    # a rule with nothing to compute is refused at once, and nothing is queued
    declared = set_rule(ctx, {"pool_bp": 5000, "method": "declared", "declared": {}})
    with ctx.db.transaction() as session:
        before = len(list(session.scalars(select(Valuation.id))))
    refused = app_client.post(
        f"/api/v1/market/products/{declared}/valuations", headers=auth(ctx, "ai-analyst") | EN
    )
    assert refused.status_code == 422 and "nothing to compute" in refused.json()["error"]["message"]
    with ctx.db.transaction() as session:
        assert len(list(session.scalars(select(Valuation.id)))) == before
