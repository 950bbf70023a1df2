"""The revenue shares in the console (no browser): a contributor's statement with the evidence
each share rests on, objecting to a share, asking a regulator and deciding; a product's
sharing rule, its preview and the seller's form; the listing wizard's rule; an order's
shares. The same service functions as the API, so these check the pages, not the rules."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import auth, dataset_id
from tests.console.test_pages import csrf
from tests.market.conftest import org_ids
from tests.market.test_orders import COOP, paid
from tests.market.test_pages import login
from tests.market.test_sharing import lines, set_rule
from yaosu.context import Context
from yaosu.market.models import Product, ShareLine, ShareObjection, Valuation

REASON = "我方清洗工作量被低估，请按合同重新核定分成。"


def accepted(app_client: TestClient, ctx: Context, rule: dict[str, Any]) -> dict[str, Any]:
    """An order of the demo's capped service, paid and accepted, under ``rule``."""
    set_rule(ctx, rule)
    order = paid(app_client, ctx)
    done = app_client.post(
        f"/api/v1/market/orders/{order['id']}/acceptance", headers=auth(ctx, COOP)
    )
    assert done.status_code == 200, done.text
    return order


def declared(ctx: Context) -> dict[str, Any]:
    bureau = org_ids(ctx)["bureau"]  # the AI company sells a product of the bureau's data
    return {
        "pool_bp": 6000,
        "method": "declared",
        "roles": [{"org_id": bureau, "role": "cleaning", "bp": 1000}],
        "declared": {bureau: 1},
    }


def line_of(ctx: Context, order_id: str, kind: str) -> ShareLine:
    (found,) = [x for x in lines(ctx, order_id) if x.kind == kind]
    return found


def post(app_client: TestClient, path: str, form: dict[str, Any]) -> Any:
    return app_client.post(
        path, data=form | {"csrf_token": csrf(app_client, "/market")}, follow_redirects=False
    )


def error_of(answer: Any) -> str:
    assert answer.status_code == 303, answer.text
    found = parse_qs(urlsplit(answer.headers["location"]).query).get("error")
    assert found, answer.headers["location"]
    return found[0]


def test_a_party_reads_its_statement_with_the_evidence_and_objects(
    app_client: TestClient, ctx: Context
) -> None:
    order = accepted(app_client, ctx, declared(ctx))
    pool, role = line_of(ctx, order["id"], "contributor"), line_of(ctx, order["id"], "role")
    login(app_client, "bureau-admin")
    page = app_client.get("/market/shares").text
    assert "收益分成" in page and "江州市数据局" in page
    assert "农产品销售统计查询服务" in page and f'href="/market/orders/{order["id"]}"' in page
    assert "贡献方分成" in page and "角色分成 · 清洗" in page  # kind and role, in words
    assert "约定比例（按合同） · 权重 1" in page  # the pool's evidence: method and weight
    assert "按规则为该角色设定的固定分成" in page
    assert "异议期内暂存" in page and f"¥{pool.amount_fen // 100:,}." in page
    for line in (pool, role):
        assert f'action="/market/shares/{line.id}/objection"' in page
    assert pool.id not in re.sub(r'(action|href|id|for)="[^"]+"', "", page)  # words, not ids
    # the bureau's reviewer reads the statement, but only its members object
    login(app_client, "bureau-reviewer")
    read = app_client.get("/market/shares").text
    assert "农产品销售统计查询服务" in read and "/objection" not in read
    # the seller sees the shares taken from its sale, but may not object to them
    login(app_client, "ai-analyst")
    sales = app_client.get("/market/shares").text
    assert "从本机构销售中分出的分成" in sales and "江州市数据局" in sales
    assert f"/market/shares/{pool.id}/objection" not in sales
    assert f"/market/shares/{role.id}/objection" not in sales
    # the buyer sees none of the sale's shares, and may not read the bureau's statement
    login(app_client, COOP)
    assert pool.id not in app_client.get("/market/shares").text
    other = app_client.get(f"/market/shares?org={org_ids(ctx)['bureau']}")
    assert other.status_code in (403, 404)
    # objecting: too short a reason comes back as the error; a reason freezes the share
    login(app_client, "bureau-admin")
    short = post(app_client, f"/market/shares/{pool.id}/objection", {"reason": "太少"})
    assert "10" in error_of(short)
    assert line_of(ctx, order["id"], "contributor").status == "held"
    made = post(app_client, f"/market/shares/{pool.id}/objection", {"reason": REASON})
    assert made.status_code == 303 and "done=share.objected" in made.headers["location"]
    assert line_of(ctx, order["id"], "contributor").status == "frozen"
    assert line_of(ctx, order["id"], "role").status == "held"  # only the one objected to
    after = app_client.get(made.headers["location"]).text
    assert "异议已提交" in after and "因异议冻结" in after and REASON in after
    assert f'action="/market/shares/{pool.id}/objection"' not in after  # frozen: not again
    assert "/escalation" in after and "/decision" not in after  # the party asks, not decides
    # a bad month is said, and the page shows this month's
    assert 'role="alert"' in app_client.get("/market/shares?year=abc&month=1").text


def test_the_platform_decides_an_objection_a_regulator_only_when_asked(
    app_client: TestClient, ctx: Context
) -> None:
    order = accepted(app_client, ctx, declared(ctx))
    pool = line_of(ctx, order["id"], "contributor")
    bureau = org_ids(ctx)["bureau"]
    login(app_client, "bureau-admin")
    post(app_client, f"/market/shares/{pool.id}/objection", {"reason": REASON})
    with ctx.db.transaction() as session:
        objection = session.scalar(select(ShareObjection).where(ShareObjection.line_id == pool.id))
        assert objection is not None
        objection_id = objection.id
    decision = f"/market/objections/{objection_id}/decision"
    statement = f"/market/shares?org={bureau}"
    # the regulator reads the statement but may not decide until a party asks it
    login(app_client, "dsj-inspector")
    page = app_client.get(statement).text
    assert 'name="org"' in page and REASON in page and decision not in page
    note = "经核实，按实际清洗工作量调整。"
    refused = post(app_client, decision, {"outcome": "stand", "note": note})
    assert error_of(refused) and line_of(ctx, order["id"], "contributor").status == "frozen"
    login(app_client, "bureau-admin")
    asked = post(app_client, f"/market/objections/{objection_id}/escalation", {})
    assert "done=share.escalated" in asked.headers["location"], asked.headers
    login(app_client, "dsj-inspector")
    assert decision in app_client.get(statement).text
    # the platform decides: a bad amount is refused, a stated one pays the share as set
    login(app_client, "platform-admin")
    page = app_client.get(statement).text
    assert decision in page and "核定分成金额" in page
    bad = post(app_client, decision, {"outcome": "amount", "amount": "1.005", "note": note})
    assert "1.005" in error_of(bad)
    assert line_of(ctx, order["id"], "contributor").status == "frozen"
    half = pool.amount_fen // 2
    ruled = post(
        app_client,
        decision,
        {"outcome": "amount", "amount": f"{half // 100}.{half % 100:02d}", "note": note},
    )
    assert "done=share.decided" in ruled.headers["location"], ruled.headers
    got = line_of(ctx, order["id"], "contributor")
    assert got.status == "paid" and got.amount_fen == half
    after = app_client.get(ruled.headers["location"]).text
    assert "异议成立" in after and "已支付" in after and decision not in after


def test_a_computed_share_shows_its_valuation(app_client: TestClient, ctx: Context) -> None:
    bureau = org_ids(ctx)["bureau"]
    pid = set_rule(ctx, {"pool_bp": 5000, "method": "shapley", "valuation": {"seed": 7}})
    with ctx.db.transaction() as session:
        session.add(
            Valuation(
                id="val_pagetest",
                product_id=pid,
                method="shapley",
                params={"seed": 7},
                seed=7,
                players=[bureau],
                values={bureau: 0.625},
                evidence={
                    "stderr": [0.0125],
                    "utilities": {"0b0": 0.0, "0b1": 0.625},
                    "copies_dropped": {bureau: 3},
                },
                created_by="test",
            )
        )
    order = accepted(app_client, ctx, {"pool_bp": 5000, "method": "shapley"})
    assert line_of(ctx, order["id"], "contributor").evidence["valuation"] == "val_pagetest"
    login(app_client, "bureau-admin")
    page = app_client.get("/market/shares").text
    assert "模型验证得分的 Shapley 值" in page and "贡献估值：随机种子 7" in page
    assert "江州市数据局: 0.6250 ± 0.0125" in page and "2 个联盟的效用值" in page
    assert "江州市数据局 的 3 行重复数据只计一次" in page
    product = app_client.get(f"/market/products/{pid}").text  # the product's latest valuation
    assert "最近一次贡献估值" in product and "随机种子 7" in product and "0.6250" in product


def test_the_product_page_shows_the_rule_and_a_preview(
    app_client: TestClient, ctx: Context
) -> None:
    pid = set_rule(ctx, declared(ctx))
    page = app_client.get(f"/market/products/{pid}").text  # anyone may read it
    assert "收益分配规则" in page and "60%" in page and "约定比例（按合同）" in page
    assert "江州市数据局 · 清洗 · 10%" in page and "约定权重" in page
    # ¥1,000.00 of seller side: 10% to the role, 60% to the pool, the rest the seller's
    assert "¥100.00" in page and "¥600.00" in page and "¥300.00" in page
    assert "卖方余额" in page
    bigger = app_client.get(f"/market/products/{pid}?example=2000").text
    assert "¥200.00" in bigger and "¥1,200.00" in bigger
    wrong = app_client.get(f"/market/products/{pid}?example=abc").text
    assert 'role="alert"' in wrong
    # a listed product's rule is frozen: its seller gets no form, and no valuation to run
    login(app_client, "ai-analyst")
    seller = app_client.get(f"/market/products/{pid}").text
    assert "收益分配规则" in seller and f'action="/market/products/{pid}/sharing"' not in seller
    assert "/valuations" not in seller
    set_rule(ctx, {})
    assert "未设收益分配规则" in app_client.get(f"/market/products/{pid}").text


def wizard(app_client: TestClient, ctx: Context, title: str, **sharing: str) -> Any:
    form = {
        "csrf_token": csrf(app_client, "/market/new"),
        "kind": "query_service",
        "title": title,
        "dataset": dataset_id(ctx, "农产品"),
        "public_data": "yes",
        "pricing_class": "capped",
        "model": "fixed",
        "unit": "calls",
        "unit_price": "0.50",
        "purposes": ["industry_development"],
    } | sharing
    return app_client.post("/market/new", data=form, follow_redirects=False)


def product_titled(ctx: Context, title: str) -> Product | None:
    with ctx.db.transaction() as session:
        found = session.scalar(select(Product).where(Product.title == title))
        if found is not None:
            session.expunge(found)
        return found


def test_the_seller_states_the_rule_in_the_wizard_and_on_the_draft(
    app_client: TestClient, ctx: Context
) -> None:
    bureau = org_ids(ctx)["bureau"]
    login(app_client, "ai-analyst")
    assert "收益分配（可选）" in app_client.get("/market/new").text
    # bad JSON is refused with where it is wrong, and nothing is written
    bad = wizard(app_client, ctx, "分成向导坏例", sharing_pool="50", sharing_rest="{declared: 1")
    assert "JSON" in error_of(bad) and product_titled(ctx, "分成向导坏例") is None
    # organisations may be named by name; the rule is checked and kept
    made = wizard(
        app_client,
        ctx,
        "分成向导产品",
        sharing_pool="50",
        sharing_method="declared",
        sharing_rest='{"declared": {"江州市数据局": 1}}',
    )
    assert made.status_code == 303 and "error=" not in made.headers["location"], made.headers
    product = product_titled(ctx, "分成向导产品")
    assert product is not None and product.status == "draft"
    assert product.sharing["pool_bp"] == 5000 and product.sharing["declared"] == {bureau: 1}
    # on the draft's page, the form changes it
    path = f"/market/products/{product.id}"
    page = app_client.get(path).text
    assert f'action="{path}/sharing"' in page and f'name="contributor" value="{bureau}"' in page
    form = {
        "pool": "70",
        "method": "declared",
        "contributor": [bureau],
        "weight": ["3"],
        "floor": [""],
        "cap": ["90"],
        "role_org": [bureau],
        "role": ["deidentification"],
        "role_percent": ["12.5"],
        "valuation": "",
    }
    saved = post(app_client, f"{path}/sharing", form)
    assert "done=product.shared" in saved.headers["location"], saved.headers
    rule = (product_titled(ctx, "分成向导产品") or product).sharing
    assert rule["pool_bp"] == 7000 and rule["declared"] == {bureau: 3}
    assert rule["caps_bp"] == {bureau: 9000} and rule["floors_bp"] == {}
    assert rule["roles"] == [{"org_id": bureau, "role": "deidentification", "bp": 1250}]
    after = app_client.get(saved.headers["location"]).text
    assert "收益分配规则已保存" in after and "12.5%" in after and "不高于 90%" in after
    # a bad rule is refused with the reason, and the rule stays as it was
    over = post(app_client, f"{path}/sharing", form | {"pool": "150"})
    assert "0 至 100 的百分比" in error_of(over)
    taken = post(app_client, f"{path}/sharing", form | {"pool": "95", "role_percent": ["10"]})
    assert "10500" in error_of(taken)
    weight = post(app_client, f"{path}/sharing", form | {"weight": ["many"]})
    assert "江州市数据局" in error_of(weight)
    assert (product_titled(ctx, "分成向导产品") or product).sharing == rule
    # a computed method offers the valuation; its parameters must be JSON
    bad_json = post(app_client, f"{path}/sharing", form | {"method": "shapley", "valuation": "["})
    assert "估值参数" in error_of(bad_json)
    computed = post(
        app_client,
        f"{path}/sharing",
        form | {"method": "leave_one_out", "valuation": '{"seed": 3}', "weight": [""]},
    )
    assert "error=" not in computed.headers["location"], computed.headers
    page = app_client.get(path).text
    assert f'action="{path}/valuations"' in page and "尚未估值" in page
    # someone else's product: no form, and the post is refused
    login(app_client, "bureau-admin")
    assert f'action="{path}/sharing"' not in app_client.get(path).text
    assert error_of(post(app_client, f"{path}/sharing", form))


def test_the_order_page_lists_its_shares(app_client: TestClient, ctx: Context) -> None:
    order = accepted(app_client, ctx, declared(ctx))
    pool = line_of(ctx, order["id"], "contributor")
    login(app_client, COOP)  # the buyer, who may see the order
    page = app_client.get(f"/market/orders/{order['id']}").text
    assert "收益分成" in page and "江州市数据局" in page and "贡献方分成" in page
    assert f"¥{pool.amount_fen // 100:,}.{pool.amount_fen % 100:02d}" in page
    assert "异议期内暂存" in page and "清洗" in page
    assert 'href="/market/shares"' in app_client.get("/market").text  # the market's links
