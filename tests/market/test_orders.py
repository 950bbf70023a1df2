"""Orders through the API and the service, on both backends: an order becomes a contract
through the access request path, is paid by bank transfer into escrow, held, delivered,
accepted (by the buyer or after the stated days) or disputed and decided; free purposes pay
nothing; cancellations refund; every step is audited, retries post once, and money is
conserved over any sequence of steps."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import actor, auth
from tests.market.test_ledger import check_books
from yaosu.audit.models import AuditEntry
from yaosu.authorization.models import AccessRequest, Review
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import YaosuError
from yaosu.market import orders as orders_
from yaosu.market import service as market
from yaosu.market.models import LedgerAccount, LedgerTransfer, Order, Product, RevenuePeriod

COOP, AI, P = "coop-manager", "ai-analyst", "platform-admin"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
CAPPED = "农产品销售统计查询服务"  # tiered per call: 1000 at ¥0.50, then ¥0.30, then ¥0.20


def product_id(ctx: Context, title: str = CAPPED) -> str:
    with ctx.db.transaction() as session:
        found = session.scalar(select(Product.id).where(Product.title == title))
        assert found is not None
        return found


def place(
    app_client: TestClient, ctx: Context, *, quantity: int = 1500, **over: Any
) -> dict[str, Any]:
    body = {
        "product_id": product_id(ctx),
        "purpose": "industry_development",
        "quantity": quantity,
        "justification": "合作社测算各乡镇农产品销量，安排收购计划。",
    } | over
    made = app_client.post("/api/v1/market/orders", json=body, headers=auth(ctx, COOP))
    assert made.status_code == 201, made.text
    return dict(made.json())


def get(app_client: TestClient, ctx: Context, order_id: str, user: str = COOP) -> Any:
    return app_client.get(f"/api/v1/market/orders/{order_id}", headers=auth(ctx, user) | EN)


def contract(app_client: TestClient, ctx: Context, order: dict[str, Any]) -> dict[str, Any]:
    """Every review the order's request needs approves it, and the buyer accepts the terms."""
    reviewer_of = {actor(ctx, u).org_id: u for u in ("bureau-reviewer", "cac-inspector")}
    with ctx.db.transaction() as session:
        reviewers = list(
            session.scalars(
                select(Review.reviewer_org_id).where(Review.request_id == order["request_id"])
            )
        )
    for org in reviewers:
        done = app_client.post(
            f"/api/v1/requests/{order['request_id']}/reviews",
            json={"decision": "approve", "reason": "用途正当，字段必要"},
            headers=auth(ctx, reviewer_of[org]),
        )
        assert done.status_code == 200, done.text
    contract_id = done.json()["contract_id"]
    accepted = app_client.post(
        f"/api/v1/contracts/{contract_id}/acceptance",
        json={"decision": "accept"},
        headers=auth(ctx, COOP),
    )
    assert accepted.status_code == 200, accepted.text
    return dict(get(app_client, ctx, order["id"]).json())


def pay(app_client: TestClient, ctx: Context, reference: str, amount_fen: int) -> Any:
    yuan = f"{amount_fen // 100}.{amount_fen % 100:02d}"
    csv = (
        f"交易日期,摘要,收入金额,对方户名\n2026-12-03,货款 {reference},{yuan},青禾农民专业合作社\n"
    )
    return app_client.post(
        f"/api/v1/market/bank-imports?filename=pay-{reference}-{amount_fen}.csv",
        content=csv.encode("gbk"),
        headers=auth(ctx, P) | {"Content-Type": "text/csv"},
    )


def paid(app_client: TestClient, ctx: Context, **over: Any) -> dict[str, Any]:
    order = contract(app_client, ctx, place(app_client, ctx, **over))
    assert order["status"] == "awaiting_payment", order
    done = pay(app_client, ctx, order["payment_reference"], order["amount_due_fen"])
    assert done.status_code == 201, done.text
    return dict(get(app_client, ctx, order["id"]).json())


def balances(ctx: Context, org_id: str) -> dict[str, tuple[int, int]]:
    """``{code: (posted balance, pending balance)}`` of an organisation's accounts."""
    with ctx.db.transaction() as session:
        return {
            a.code: (market.balance(a), market.balance(a, pending=True) - market.balance(a))
            for a in session.scalars(select(LedgerAccount).where(LedgerAccount.org_id == org_id))
        }


def moved(
    ctx: Context, org_id: str, since: dict[str, tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    """How an organisation's accounts changed since ``since`` (the demo's orders hold and
    pay some money already)."""
    now = balances(ctx, org_id)
    return {
        code: (v[0] - since.get(code, (0, 0))[0], v[1] - since.get(code, (0, 0))[1])
        for code, v in now.items()
    }


def platform_org(ctx: Context) -> str:
    with ctx.db.transaction() as session:
        return market.platform_org_id(session)


def test_an_order_is_contracted_paid_held_delivered_and_accepted(
    app_client: TestClient, ctx: Context
) -> None:
    base = balances(ctx, str(actor(ctx, COOP).org_id))
    order = place(app_client, ctx)
    # 1000 calls at ¥0.50 and 500 at ¥0.30: ¥650.00; fees 3 % and 2 % of it
    assert (order["amount_fen"], order["platform_fee_fen"], order["operator_fee_fen"]) == (
        65_000,
        1_950,
        1_300,
    )
    assert order["seller_fen"] == 65_000 - 1_950 - 1_300
    assert order["status"] == "contracting" and order["contract_id"] is None
    with ctx.db.transaction() as session:
        req = session.get(AccessRequest, order["request_id"])
        assert req is not None and req.max_uses == 1500  # the contract bounds the calls bought
        assert req.operations == ["aggregate"]
    order = contract(app_client, ctx, order)
    assert order["status"] == "awaiting_payment" and order["amount_due_fen"] == 65_000
    assert order["payment_reference"].startswith("YSP-")
    # the seller sees it; someone else's reviewer does not (not even that it exists)
    assert get(app_client, ctx, order["id"], AI).status_code == 200
    assert get(app_client, ctx, order["id"], "bureau-reviewer").status_code == 404
    # a partial payment keeps it waiting; the rest begins the delivery
    assert pay(app_client, ctx, order["payment_reference"], 40_000).status_code == 201
    assert get(app_client, ctx, order["id"]).json()["status"] == "awaiting_payment"
    assert pay(app_client, ctx, order["payment_reference"], 25_000).status_code == 201
    order = get(app_client, ctx, order["id"]).json()
    assert order["status"] == "delivering" and order["accept_by"] is not None
    assert order["amount_due_fen"] == 0
    buyer, seller = order["buyer_org_id"], order["seller_org_id"]
    assert moved(ctx, buyer, base)["escrow"] == (65_000, -65_000)  # paid in, all of it held
    # the seller cannot accept for the buyer
    refused = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, AI) | EN
    )
    assert refused.status_code == 403, refused.text
    with ctx.db.transaction() as session:
        period = session.scalar(
            select(RevenuePeriod).where(
                RevenuePeriod.operator_org_id == seller, RevenuePeriod.status == "open"
            )
        )
        assert period is not None
        revenue_before = period.revenue_fen
    done = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, COOP)
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "accepted"
    assert done.json()["delivery"]["unit"] == "calls" and done.json()["delivery"]["used"] == 0
    assert moved(ctx, buyer, base)["escrow"] == (0, 0)
    mine = balances(ctx, seller)
    assert mine["revenue"][0] >= 61_750 and mine["operator_fee"][0] >= 1_300
    assert balances(ctx, platform_org(ctx))["service_fee"][0] >= 1_950
    with ctx.db.transaction() as session:
        period = session.get(RevenuePeriod, period.id)
        assert period is not None and period.revenue_fen == revenue_before + 61_750 + 1_300
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == order["id"]))
        )
        assert {"order.create", "order.advance", "order.accept"} <= actions
        check_books(session)
    # accepted once: again is refused and changes nothing
    again = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, COOP) | ZH
    )
    assert again.status_code == 409 and "目前不能" in again.json()["error"]["message"]


def test_a_free_purpose_order_pays_nothing(app_client: TestClient, ctx: Context) -> None:
    order = place(app_client, ctx, purpose="public_welfare")
    assert order["amount_fen"] == 0 and order["pricing_class"] == "free"
    order = contract(app_client, ctx, order)
    assert order["status"] == "delivering" and order["payment_reference"] is None
    done = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, COOP)
    )
    assert done.json()["status"] == "accepted"
    with ctx.db.transaction() as session:
        assert not session.scalar(
            select(func.count())
            .select_from(LedgerTransfer)
            .where(LedgerTransfer.ref == order["id"])
        )


def test_a_dispute_freezes_the_money_until_it_is_decided(
    app_client: TestClient, ctx: Context
) -> None:
    base = balances(ctx, str(actor(ctx, COOP).org_id))
    order = paid(app_client, ctx, quantity=200)
    url = f"/api/v1/market/orders/{order['id']}"
    short = app_client.post(f"{url}/dispute", json={"reason": "差"}, headers=auth(ctx, COOP) | ZH)
    assert short.status_code == 422 and "10" in short.json()["error"]["message"]
    reason = {"reason": "交付的统计口径与产品说明不符，无法使用。"}
    assert app_client.post(f"{url}/dispute", json=reason, headers=auth(ctx, AI)).status_code == 403
    done = app_client.post(f"{url}/dispute", json=reason, headers=auth(ctx, COOP))
    assert done.status_code == 200 and done.json()["status"] == "disputed"
    buyer = order["buyer_org_id"]
    assert moved(ctx, buyer, base)["escrow"] == (10_000, -10_000)  # frozen, still held
    # disputed: neither accepted nor automatically accepted
    assert app_client.post(f"{url}/acceptance", headers=auth(ctx, COOP)).status_code == 409
    with ctx.db.transaction() as session:
        orders_.advance(
            session, order_id=order["id"], settings=ctx.settings, now=utcnow() + timedelta(days=30)
        )
    assert get(app_client, ctx, order["id"]).json()["status"] == "disputed"
    # a regulator decides only once a party asked one; the platform always may
    decision = {"outcome": "refund", "note": "经核实交付内容与说明不符，退款给买方。"}
    early = app_client.post(f"{url}/decision", json=decision, headers=auth(ctx, "cac-inspector"))
    assert early.status_code == 403
    asked = app_client.post(
        f"{url}/escalation", json={"reason": "请监管部门裁决"}, headers=auth(ctx, AI)
    )
    assert asked.status_code == 200 and asked.json()["regulator_asked"] is True
    done = app_client.post(f"{url}/decision", json=decision, headers=auth(ctx, "cac-inspector"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "refunded"
    assert moved(ctx, buyer, base)["escrow"] == (0, 0)
    assert moved(ctx, buyer, base)["payable"] == (10_000, 0)  # the platform owes the buyer
    with ctx.db.transaction() as session:
        check_books(session)


def test_a_dispute_the_platform_releases_pays_the_seller(
    app_client: TestClient, ctx: Context
) -> None:
    order = paid(app_client, ctx, quantity=100)
    url = f"/api/v1/market/orders/{order['id']}"
    reason = {"reason": "交付的统计口径与产品说明不符，无法使用。"}
    assert app_client.post(f"{url}/dispute", json=reason, headers=auth(ctx, COOP)).is_success
    before = balances(ctx, order["seller_org_id"])["revenue"][0]
    decision = {"outcome": "release", "note": "交付符合产品说明，款项支付给卖方。"}
    done = app_client.post(f"{url}/decision", json=decision, headers=auth(ctx, P))
    assert done.json()["status"] == "accepted", done.text
    assert balances(ctx, order["seller_org_id"])["revenue"][0] == before + order["seller_fen"]


def test_delivery_is_accepted_automatically_after_the_stated_days(
    app_client: TestClient, ctx: Context
) -> None:
    order = paid(app_client, ctx, quantity=10)
    with ctx.db.transaction() as session:
        assert orders_.advance_all(session, settings=ctx.settings) == 0  # not yet due
        later = utcnow() + timedelta(days=ctx.settings.acceptance_days, seconds=1)
        assert orders_.advance_all(session, settings=ctx.settings, now=later) == 1
        done = session.get(Order, order["id"])
        assert done is not None and done.status == "accepted"
        assert done.ended_because == "accepted_automatically"
        check_books(session)


def test_a_dispute_left_open_past_the_hold_is_refunded(
    app_client: TestClient, ctx: Context
) -> None:
    order = paid(app_client, ctx, quantity=10)
    url = f"/api/v1/market/orders/{order['id']}"
    reason = {"reason": "交付的统计口径与产品说明不符，无法使用。"}
    assert app_client.post(f"{url}/dispute", json=reason, headers=auth(ctx, COOP)).is_success
    later = utcnow() + timedelta(days=ctx.settings.hold_days, seconds=1)
    platform = actor(ctx, P)
    with ctx.db.transaction() as session:
        voided = market.expire(session, platform, now=later)
        assert voided >= 3  # this order's three holds (and the demo's disputed one's)
        orders_.advance_all(session, settings=ctx.settings, now=later)
        done = session.get(Order, order["id"])
        assert done is not None and done.status == "refunded"
        check_books(session)
    assert balances(ctx, order["buyer_org_id"])["payable"][0] >= order["amount_fen"]


def test_cancelling_refunds_what_was_paid_and_the_late_payment_is_left_unmatched(
    app_client: TestClient, ctx: Context
) -> None:
    base = balances(ctx, str(actor(ctx, COOP).org_id))
    order = contract(app_client, ctx, place(app_client, ctx, quantity=300))
    assert pay(app_client, ctx, order["payment_reference"], 5_000).status_code == 201
    url = f"/api/v1/market/orders/{order['id']}"
    done = app_client.post(
        f"{url}/cancellation", json={"reason": "计划调整"}, headers=auth(ctx, COOP)
    )
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert moved(ctx, order["buyer_org_id"], base)["payable"] == (5_000, 0)
    late = pay(app_client, ctx, order["payment_reference"], 10_000)
    assert late.json()["lines"][0]["status"] == "unmatched"
    assert app_client.post(f"{url}/acceptance", headers=auth(ctx, COOP)).status_code == 409


def test_a_refused_request_cancels_the_order(app_client: TestClient, ctx: Context) -> None:
    order = place(app_client, ctx, quantity=5)
    done = app_client.post(
        f"/api/v1/requests/{order['request_id']}/reviews",
        json={"decision": "reject", "reason": "用途与数据不符"},
        headers=auth(ctx, "bureau-reviewer"),
    )
    assert done.status_code == 200, done.text
    assert get(app_client, ctx, order["id"]).json()["status"] == "cancelled"


def test_bad_orders_are_refused_clearly_and_write_nothing(
    app_client: TestClient, ctx: Context
) -> None:
    pid = product_id(ctx)
    good = {
        "product_id": pid,
        "purpose": "industry_development",
        "quantity": 10,
        "justification": "合作社测算各乡镇农产品销量，安排收购计划。",
    }
    with ctx.db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Order))
    cases = [
        ({"quantity": 0}, 422),
        ({"quantity": 10**12}, 422),
        ({"quantity": "十"}, 422),
        ({"purpose": "commercial_marketing"}, 422),  # not a purpose this product is offered for
        ({"product_id": "prd_nope"}, 404),
        ({"justification": "短"}, 422),
        ({"negotiation_id": "neg_nope"}, 404),
    ]
    for over, status in cases:
        got = app_client.post(
            "/api/v1/market/orders", json=good | over, headers=auth(ctx, COOP) | ZH
        )
        assert got.status_code == status, (over, got.text)
        assert got.json()["error"]["message"], over
    # the seller does not buy its own product; a reviewer does not buy
    assert (
        app_client.post("/api/v1/market/orders", json=good, headers=auth(ctx, AI)).status_code
        == 403
    )
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == before
        assert not session.scalar(
            select(func.count())
            .select_from(AccessRequest)
            .where(AccessRequest.justification == good["justification"])
        )


def test_each_party_lists_its_own_orders(app_client: TestClient, ctx: Context) -> None:
    order = place(app_client, ctx, quantity=7)
    mine = app_client.get("/api/v1/market/orders?side=buying", headers=auth(ctx, COOP)).json()
    assert order["id"] in {o["id"] for o in mine}
    sold = app_client.get("/api/v1/market/orders?side=selling", headers=auth(ctx, AI)).json()
    assert order["id"] in {o["id"] for o in sold}
    other = app_client.get("/api/v1/market/orders", headers=auth(ctx, "bureau-reviewer")).json()
    assert order["id"] not in {o["id"] for o in other}
    bad = app_client.get("/api/v1/market/orders?status=lost", headers=auth(ctx, COOP) | ZH)
    assert bad.status_code == 422


def test_every_step_retried_posts_once(app_client: TestClient, ctx: Context) -> None:
    """Advancing again holds nothing twice; accepting again is refused; the release's
    transfers sent again (a client retrying after a lost answer) return the ones posted."""
    order = paid(app_client, ctx, quantity=20)
    buyer = actor(ctx, COOP)
    with ctx.db.transaction() as session:
        made = session.scalar(select(func.count()).select_from(LedgerTransfer))
        for _ in range(3):
            orders_.advance(session, order_id=order["id"], settings=ctx.settings)
        assert session.scalar(select(func.count()).select_from(LedgerTransfer)) == made
        orders_.accept(session, buyer, order_id=order["id"], settings=ctx.settings)
        stored = session.get(Order, order["id"])
        assert stored is not None
        posted = session.scalar(select(func.count()).select_from(LedgerTransfer))
        assert posted == made + 3  # three holds posted, once each
        again = [
            market.Spec(
                key=f"order:{stored.id}:release:{i}", code=code, kind="post", pending_id=hold
            )
            for i, (hold, code) in enumerate(
                session.execute(
                    select(LedgerTransfer.id, LedgerTransfer.code)
                    .where(LedgerTransfer.id.in_(stored.holds))
                    .order_by(LedgerTransfer.idempotency_key)
                )
            )
        ]
        market.post_batch(session, buyer, transfers=again)
        assert session.scalar(select(func.count()).select_from(LedgerTransfer)) == posted
        check_books(session)
    again_http = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, COOP)
    )
    assert again_http.status_code == 409


def test_fifty_clients_ordering_and_accepting_at_once_never_double_post(
    app_client: TestClient, ctx: Context, backend: str
) -> None:
    """Fifty clients at once (eight on SQLite, which runs one writer at a time): half accept
    paid orders, five clients on each, the other half place new orders. Each order is
    released once (its three holds posted once), every new order is its own, nobody is
    refused but the late acceptances (409), and the books balance."""
    clients = 50 if backend == "postgresql" else 8
    targets = [paid(app_client, ctx, quantity=10 + i) for i in range(max(1, clients // 10))]
    buyer = actor(ctx, COOP)
    start = threading.Barrier(clients)
    accepted: list[str] = []
    late: list[str] = []
    placed: list[str] = []
    errors: list[BaseException] = []
    product = product_id(ctx)

    def work(i: int) -> None:
        start.wait()
        try:
            with ctx.db.transaction() as session:
                if i % 2:
                    made = orders_.place(
                        session,
                        buyer,
                        settings=ctx.settings,
                        product_id=product,
                        purpose="industry_development",
                        quantity=100 + i,
                        justification="合作社测算各乡镇农产品销量，安排收购计划。",
                    )
                    placed.append(made.id)
                    return
                order_id = targets[(i // 2) % len(targets)]["id"]
                orders_.accept(session, buyer, order_id=order_id, settings=ctx.settings)
                accepted.append(order_id)
        except YaosuError as exc:
            if exc.status == 409:
                late.append(str(exc))
            else:
                errors.append(exc)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)
    assert errors == [], errors[:3]
    assert sorted(accepted) == sorted(o["id"] for o in targets)  # each accepted once
    assert len(accepted) + len(late) == clients // 2
    assert len(set(placed)) == len(placed) == clients // 2
    with ctx.db.transaction() as session:
        for order in targets:
            posts = session.scalar(
                select(func.count())
                .select_from(LedgerTransfer)
                .where(
                    LedgerTransfer.kind == "post",
                    LedgerTransfer.idempotency_key.like(f"order:{order['id']}:%"),
                )
            )
            assert posts == 3, order["id"]
        assert session.scalar(
            select(func.count()).select_from(Order).where(Order.id.in_(placed))
        ) == len(placed)
        check_books(session)


@pytest.mark.parametrize("seed", [1, 2])
def test_money_is_conserved_over_random_order_sequences(
    app_client: TestClient, ctx: Context, seed: int
) -> None:
    """Random orders, each taken through a random path (accept, dispute and release or refund,
    cancel early, cancel after a partial payment, time out): after every step each account's
    counters equal its transfers, and the books balance."""
    rng = random.Random(seed)
    buyer, platform = actor(ctx, COOP), actor(ctx, P)
    for n in range(6):
        order = contract(app_client, ctx, place(app_client, ctx, quantity=rng.randint(1, 3000)))
        path = rng.choice(["accept", "release", "refund", "cancel", "partial", "timeout"])
        due = order["amount_due_fen"]
        if path == "cancel":
            steps = [("cancel",)]
        elif path == "partial":
            steps = [("pay", max(1, due // 3)), ("cancel",)]
        else:
            steps = [("pay", due)] + {
                "accept": [("accept",)],
                "release": [("dispute",), ("resolve", "release")],
                "refund": [("dispute",), ("resolve", "refund")],
                "timeout": [("later",)],
            }[path]
        for step in steps:
            try:
                if step[0] == "pay":
                    assert pay(app_client, ctx, order["payment_reference"], step[1]).is_success
                    continue
                with ctx.db.transaction() as session:
                    kw = {"order_id": order["id"], "settings": ctx.settings}
                    if step[0] == "cancel":
                        orders_.cancel(session, buyer, reason="计划调整", **kw)
                    elif step[0] == "accept":
                        orders_.accept(session, buyer, **kw)
                    elif step[0] == "dispute":
                        orders_.dispute(session, buyer, reason="交付的内容与说明不符。", **kw)
                    elif step[0] == "resolve":
                        orders_.resolve(
                            session,
                            platform,
                            outcome=step[1],
                            note="经平台核实交付情况后作出裁决。",
                            **kw,
                        )
                    else:
                        later = utcnow() + timedelta(days=ctx.settings.acceptance_days + 1)
                        orders_.advance(session, now=later, **kw)
            except YaosuError as exc:  # pragma: no cover - a path above is always legal
                raise AssertionError(f"order {n} {path} {step}: {exc}") from exc
            with ctx.db.transaction() as session:
                check_books(session)
        with ctx.db.transaction() as session:
            final = session.get(Order, order["id"])
            assert final is not None
            assert (
                final.status
                == {
                    "accept": "accepted",
                    "release": "accepted",
                    "timeout": "accepted",
                    "refund": "refunded",
                    "cancel": "cancelled",
                    "partial": "cancelled",
                }[path]
            ), (path, final.status)
