"""Data products and their listing through the API, on both backends: manifests, lineage to
operation rights, the listing state machine, prices (free, capped with progressive tiers,
negotiated), revenue periods, the DCAT offer, and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import auth, dataset_id
from yaosu.audit.models import AuditEntry
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.market.models import Product

AI, BA, DSJ, P = "ai-analyst", "bureau-admin", "dsj-inspector", "platform-admin"
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def product_id(ctx: Context, title_part: str) -> str:
    with ctx.db.transaction() as session:
        found = session.scalar(select(Product.id).where(Product.title.contains(title_part)))
        assert found is not None, title_part
        return found


def entries(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def body(ctx: Context, **over: Any) -> dict[str, Any]:
    return {
        "kind": "query_service",
        "title": "测试查询服务",
        "sources": [{"dataset_id": dataset_id(ctx, "农产品")}],
        "public_data": True,
        "pricing_class": "capped",
        "price": {"model": "fixed", "unit": "calls", "unit_fen": 50},
        "purposes": ["industry_development", "public_welfare"],
        "platform_fee_bp": 300,
        "operator_fee_bp": 200,
    } | over


def create(app_client: TestClient, ctx: Context, user: str = AI, **over: Any) -> dict[str, Any]:
    made = app_client.post(
        "/api/v1/market/products", json=body(ctx, **over), headers=auth(ctx, user)
    )
    assert made.status_code == 201, made.text
    return made.json()


def quote(
    app_client: TestClient,
    pid: str,
    purpose: str,
    quantity: Any,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Any:
    return app_client.get(
        f"/api/v1/market/products/{pid}/quote",
        params={"purpose": purpose, "quantity": quantity, **params},
        headers=headers or EN,
    )


def test_a_capped_product_cannot_be_priced_above_its_cap(
    app_client: TestClient, ctx: Context
) -> None:
    made = create(app_client, ctx)
    pid, ai, dsj = made["id"], auth(ctx, AI), auth(ctx, DSJ)
    assert made["manifest"]["resources"][0]["hash"].startswith("sha256:")
    # a cap below the current price is refused: the operator reprices first
    low = app_client.put(
        f"/api/v1/market/products/{pid}/cap", json={"cap_unit_fen": 40}, headers=dsj
    )
    assert low.status_code == 422 and "¥0.50" in low.json()["error"]["message"]
    ok = app_client.put(
        f"/api/v1/market/products/{pid}/cap", json={"cap_unit_fen": 60}, headers=dsj
    )
    assert ok.status_code == 200 and ok.json()["cap_unit_fen"] == 60
    before = entries(ctx)
    tiers = {
        "model": "tiered",
        "unit": "calls",
        "tiers": [{"up_to": 10, "unit_fen": 70}, {"up_to": None, "unit_fen": 40}],
    }
    dear = app_client.put(
        f"/api/v1/market/products/{pid}/price", json={"price": tiers}, headers=ai | ZH
    )
    assert dear.status_code == 422 and "上限" in dear.json()["error"]["message"]
    assert entries(ctx) == before  # nothing written
    again = app_client.get(f"/api/v1/market/products/{pid}", headers=ai).json()
    assert again["price"] == {"model": "fixed", "unit": "calls", "unit_fen": 50}
    # the operator may not set the cap itself
    assert (
        app_client.put(
            f"/api/v1/market/products/{pid}/cap", json={"cap_unit_fen": 9000}, headers=ai
        ).status_code
        == 403
    )
    # a capped product is public data, a public-data product is never at market price
    bad = app_client.post("/api/v1/market/products", json=body(ctx, public_data=False), headers=ai)
    assert bad.status_code == 422


def test_a_free_purpose_pays_nothing(app_client: TestClient, ctx: Context) -> None:
    capped = product_id(ctx, "统计查询服务")
    free = quote(app_client, capped, "public_welfare", 5000).json()
    assert free["amount_fen"] == 0 and free["platform_fee_fen"] == 0 and free["seller_fen"] == 0
    assert free["pricing_class"] == "free" and free["lines"] == []
    open_data = product_id(ctx, "开放数据整版")
    assert quote(app_client, open_data, "industry_development", 3).json()["amount_fen"] == 0
    # a free product charges no purpose: its price can only be free
    bad = app_client.post(
        "/api/v1/market/products",
        json=body(
            ctx, pricing_class="free", price={"model": "fixed", "unit": "count", "unit_fen": 1}
        ),
        headers=auth(ctx, BA),
    )
    assert bad.status_code == 422


def test_progressive_tiers_are_computed_exactly(app_client: TestClient, ctx: Context) -> None:
    pid = product_id(ctx, "统计查询服务")  # 50 fen to 1,000 calls, 30 to 10,000, then 20
    q = quote(app_client, pid, "industry_development", 12_000).json()
    assert [(x["units"], x["fen"]) for x in q["lines"]] == [
        (1000, 50_000),
        (9000, 270_000),
        (2000, 40_000),
    ]
    assert q["amount_fen"] == 360_000 and q["amount"] == "¥3,600.00"
    assert (q["platform_fee_fen"], q["operator_fee_fen"], q["seller_fen"]) == (
        10_800,
        7_200,
        342_000,
    )
    assert q["trial"] is True  # listed less than a year ago
    assert quote(app_client, pid, "industry_development", 1000).json()["amount_fen"] == 50_000
    assert quote(app_client, pid, "industry_development", 1001).json()["amount_fen"] == 50_030
    # 3 basis points of 1,001 fen rounds half up to 0.3003 -> 0; 300 bp of 50,030 -> 1,500.9 -> 1,501
    assert quote(app_client, pid, "industry_development", 1001).json()["platform_fee_fen"] == 1_501


def test_revenue_above_the_allowed_revenue_reduces_the_next_period(
    app_client: TestClient, ctx: Context
) -> None:
    from tests.conftest import actor
    from yaosu.market import service as market

    ai, dsj = actor(ctx, AI), auth(ctx, DSJ)
    with ctx.db.transaction() as session:
        period = market.current_period(session, operator_org_id=str(ai.org_id))
        assert period is not None and market.allowed_fen(period) == 9_280_000
        earned = period.revenue_fen  # the demo's accepted order
        market.add_revenue(
            session, ai, operator_org_id=str(ai.org_id), amount_fen=10_000_000, reference="test"
        )
        pid, ends = period.id, period.ends_at
    closed = app_client.post(f"/api/v1/market/periods/{pid}/close", headers=dsj)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    following = app_client.post(
        "/api/v1/market/periods",
        json={
            "operator_org_id": ai.org_id,
            "starts_at": ends.isoformat(),
            "ends_at": (ends + timedelta(days=365)).isoformat(),
            "cost_fen": 8_000_000,
            "profit_fen": 800_000,
            "tax_fen": 480_000,
        },
        headers=dsj,
    )
    assert following.status_code == 201, following.text
    assert following.json()["deduction_fen"] == 720_000 + earned
    assert following.json()["allowed_fen"] == 9_280_000 - 720_000 - earned
    # closing twice is an illegal move
    assert app_client.post(f"/api/v1/market/periods/{pid}/close", headers=dsj).status_code == 409


def test_listing_without_the_operation_right_is_refused(
    app_client: TestClient, ctx: Context
) -> None:
    headers = auth(ctx, BA) | ZH
    before = entries(ctx)
    with ctx.db.transaction() as session:
        products = session.scalar(select(func.count()).select_from(Product))
    refused = app_client.post(
        "/api/v1/market/products",
        json=body(ctx, sources=[{"dataset_id": dataset_id(ctx, "参保人员")}]),
        headers=headers,
    )
    assert refused.status_code == 422 and "经营权" in refused.json()["error"]["message"]
    assert entries(ctx) == before
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == products


def test_the_listing_state_machine(app_client: TestClient, ctx: Context) -> None:
    ai, p, br, dsj = (auth(ctx, u) for u in (AI, P, "bureau-reviewer", DSJ))
    pid = create(app_client, ctx)["id"]
    url = f"/api/v1/market/products/{pid}"

    def illegal(method: str, path: str, headers: dict[str, str], **kw: Any) -> None:
        before = entries(ctx)
        got = app_client.request(method, url + path, headers=headers, **kw)
        assert got.status_code == 409, got.text
        assert entries(ctx) == before
        assert app_client.get(url, headers=ai).json()["status"] == status

    status = "draft"
    illegal("POST", "/publish", p)
    illegal("POST", "/assessment", p, json={"passed": True})
    assert app_client.post(f"{url}/submit", headers=ai).json()["status"] == "assessing"
    status = "assessing"
    illegal("POST", "/submit", ai)
    # the cap is not set: the assessment cannot pass, and says why
    blocked = app_client.post(f"{url}/assessment", json={"passed": True}, headers=p | EN)
    assert blocked.status_code == 409 and "cap" in blocked.json()["error"]["message"]
    report = app_client.post(
        f"{url}/reports",
        json={"kind": "quality", "summary": "完整", "score": 90},
        headers=auth(ctx, "assessor"),
    )
    assert report.status_code == 201
    app_client.put(f"{url}/cap", json={"cap_unit_fen": 60}, headers=dsj)
    passed = app_client.post(f"{url}/assessment", json={"passed": True, "note": "合规"}, headers=p)
    assert passed.status_code == 200 and passed.json()["status"] == "in_review"
    assert passed.json()["assessment"]["reports"] == [report.json()["id"]]
    assert passed.json()["assessment"]["sources"][0]["chain"][0]["kind"] == "holding"
    status = "in_review"
    illegal("POST", "/publish", p)
    assert (
        app_client.post(f"{url}/reviews", json={"approve": True}, headers=br).json()["status"]
        == "in_review"
    )
    # the provincial 数据局 reviews public data; its approval, the last, opens the notice
    noticed = app_client.post(f"{url}/reviews", json={"approve": True}, headers=dsj)
    assert noticed.json()["status"] == "in_notice"
    early = app_client.post(f"{url}/publish", headers=p)
    assert early.status_code == 409 and early.json()["error"]["code"] == "NOT_NOW"
    with ctx.db.transaction() as session:
        row = session.get(Product, pid)
        assert row is not None and row.notice_ends_at is not None
        row.notice_ends_at = utcnow() - timedelta(seconds=1)
    listed = app_client.post(f"{url}/publish", headers=p)
    assert listed.json()["status"] == "listed" and listed.json()["first_listed_at"]
    status = "listed"
    illegal("POST", "/status", ai, json={"to": "draft"})
    illegal(
        "PUT", "/price", ai, json={"price": {"model": "fixed", "unit": "calls", "unit_fen": 40}}
    )
    assert (
        app_client.post(f"{url}/status", json={"to": "suspended"}, headers=dsj).json()["status"]
        == "suspended"
    )
    assert (
        app_client.post(f"{url}/status", json={"to": "listed"}, headers=p).json()["status"]
        == "listed"
    )
    assert app_client.post(f"{url}/status", json={"to": "delisted"}, headers=ai).status_code == 200
    status = "delisted"
    illegal("POST", "/status", p, json={"to": "listed"})


def test_a_rejected_listing_goes_back_to_draft(app_client: TestClient, ctx: Context) -> None:
    ai, p = auth(ctx, AI), auth(ctx, P)
    pid = create(app_client, ctx)["id"]
    url = f"/api/v1/market/products/{pid}"
    app_client.post(f"{url}/submit", headers=ai)
    assert (
        app_client.post(f"{url}/assessment", json={"passed": False}, headers=p).status_code == 422
    )
    failed = app_client.post(
        f"{url}/assessment", json={"passed": False, "note": "权属材料不全"}, headers=p
    )
    assert (
        failed.json()["status"] == "rejected" and failed.json()["decision_note"] == "权属材料不全"
    )
    assert (
        app_client.post(f"{url}/status", json={"to": "draft"}, headers=ai).json()["status"]
        == "draft"
    )


def test_compute_services_are_drafted_but_not_yet_listed(
    app_client: TestClient, ctx: Context
) -> None:
    pid = create(app_client, ctx, kind="compute_service")["id"]
    refused = app_client.post(f"/api/v1/market/products/{pid}/submit", headers=auth(ctx, AI) | ZH)
    assert refused.status_code == 422 and "计算" in refused.json()["error"]["message"]


def test_a_malformed_manifest_gets_field_errors(app_client: TestClient, ctx: Context) -> None:
    manifest = {
        "name": "Not A Name",
        "licenses": [{}],
        "resources": [
            {
                "name": "r",
                "path": "x.parquet",
                "schema": {"fields": [{"name": "a", "type": "bogus"}, {"type": "string"}]},
            },
            {
                "name": "s",
                "path": "y.parquet",
                "hash": "sha256:" + "0" * 64,
                "schema": {"fields": []},
            },
        ],
    }
    ai = auth(ctx, AI)
    before = entries(ctx)
    got = app_client.post(
        "/api/v1/market/products", json=body(ctx, manifest=manifest), headers=ai | EN
    )
    assert got.status_code == 422
    error = got.json()["error"]
    fields = error["detail"]["fields"]
    for where in (
        "name",
        "licenses[0]",
        "resources[0].schema.fields[0]",
        "resources[0].schema.fields[1]",
        "resources[0].hash",
        "resources[1].hash",
    ):
        assert where in fields, (where, fields)
    assert 'field type "bogus" is not supported' in error["message"]
    assert "not the hash of any source version" in error["message"]
    assert entries(ctx) == before
    zh = app_client.post(
        "/api/v1/market/products", json=body(ctx, manifest=manifest), headers=ai | ZH
    )
    assert (
        "resources[0].hash" in zh.json()["error"]["message"]
        and "哈希" in zh.json()["error"]["message"]
    )


def test_bad_quotes_and_prices_are_clear_4xx(app_client: TestClient, ctx: Context) -> None:
    pid = product_id(ctx, "统计查询服务")
    for quantity in (0, -1, 10**12, "x"):
        assert quote(app_client, pid, "industry_development", quantity).status_code == 422
    assert quote(app_client, pid, "no_such_purpose", 1).status_code == 422
    assert (
        quote(app_client, pid, "commercial_marketing", 1).status_code == 422
    )  # not offered for it
    assert (
        app_client.get(
            "/api/v1/market/products/prd_nope/quote?purpose=public_welfare&quantity=1"
        ).status_code
        == 404
    )
    ai = auth(ctx, AI)
    dear = {"model": "fixed", "unit": "calls", "unit_fen": 10**13}
    big = create(
        app_client,
        ctx,
        public_data=False,
        pricing_class="market",
        price=dear,
        purposes=["industry_development"],
    )
    overflow = quote(app_client, big["id"], "industry_development", 1000, headers=ai | EN)
    assert overflow.status_code == 422 and "exceeds" in overflow.json()["error"]["message"]
    for price in (
        {
            "model": "tiered",
            "unit": "calls",
            "tiers": [{"up_to": 10, "unit_fen": 5}, {"up_to": 5, "unit_fen": 4}],
        },
        {"model": "tiered", "unit": "calls", "tiers": [{"up_to": 10, "unit_fen": 5}]},
        {"model": "fixed", "unit": "parsecs", "unit_fen": 5},
        {"model": "fixed", "unit": "calls", "unit_fen": 0},
        {"model": "fixed", "unit": "calls", "unit_fen": 10**14},
        {"model": "negotiated", "unit": "calls"},  # not for a capped product
        "cheap",
    ):
        got = app_client.post("/api/v1/market/products", json=body(ctx, price=price), headers=ai)
        assert got.status_code == 422, (price, got.text)
    fees = app_client.post(
        "/api/v1/market/products",
        json=body(ctx, platform_fee_bp=6000, operator_fee_bp=5000),
        headers=ai,
    )
    assert fees.status_code == 422


def test_a_negotiated_price_is_quoted_from_the_accepted_negotiation(
    app_client: TestClient, ctx: Context
) -> None:
    pid = product_id(ctx, "需求预测模型")
    coop = auth(ctx, "coop-manager")
    assert quote(app_client, pid, "industry_development", 1, headers=coop).status_code == 422
    deal = app_client.get("/api/v1/market/negotiations", headers=coop).json()[0]
    assert deal["status"] == "accepted" and [o["by"] for o in deal["offers"]] == ["buyer", "seller"]
    got = quote(
        app_client, pid, "industry_development", 1, negotiation=deal["id"], headers=coop
    ).json()
    assert got["amount_fen"] == 2_600_000 and got["platform_fee_fen"] == 78_000
    # a fresh negotiation: the buyer offers, the seller counters, the buyer declines
    opened = app_client.post(
        f"/api/v1/market/products/{pid}/negotiations",
        json={"purpose": "commercial_marketing", "quantity": 1, "amount_fen": 100_000},
        headers=coop,
    ).json()
    answer = f"/api/v1/market/negotiations/{opened['id']}/answer"
    assert (
        app_client.post(answer, json={"answer": "accept"}, headers=coop).status_code == 403
    )  # not its turn
    assert (
        app_client.post(
            answer, json={"answer": "counter", "amount_fen": 150_000}, headers=auth(ctx, AI)
        ).json()["status"]
        == "countered"
    )
    assert (
        app_client.post(answer, json={"answer": "decline"}, headers=coop).json()["status"]
        == "declined"
    )
    assert app_client.post(answer, json={"answer": "accept"}, headers=coop).status_code == 409


def test_listed_products_are_in_the_dcat_catalog_with_an_odrl_offer(
    app_client: TestClient, ctx: Context
) -> None:
    catalog = app_client.get("/api/v1/catalog").json()
    assert "odrl" in catalog["@context"]
    listed = catalog["dcat:dataset"] + catalog["dcat:service"]  # data services are services
    products = {e["dct:identifier"]: e for e in listed if "odrl:hasPolicy" in e}
    capped = products[product_id(ctx, "统计查询服务")]
    assert capped in catalog["dcat:service"] and capped["@type"] == "dcat:DataService"
    assert products[product_id(ctx, "需求预测模型")]["@type"] == "dcat:Dataset"
    offer = capped["odrl:hasPolicy"]
    assert offer["@type"] == "odrl:Offer" and offer["yaosu:pricingClass"] == "capped"
    duty = offer["odrl:permission"][0]["odrl:duty"][0]
    assert duty["odrl:action"]["@id"] == "odrl:compensate"
    pay = duty["odrl:constraint"][0]
    assert pay["odrl:leftOperand"]["@id"] == "odrl:payAmount"
    assert pay["odrl:rightOperand"] == {"@value": "0.50", "@type": "xsd:decimal"}
    assert offer["yaosu:capUnitPrice"]["@value"] == "0.60"
    free = products[product_id(ctx, "开放数据整版")]
    assert "odrl:duty" not in free["odrl:hasPolicy"]["odrl:permission"][0]
    assert product_id(ctx, "去标识化数据订阅") not in products  # still being assessed
    import rdflib

    graph = rdflib.Graph().parse(data=app_client.get("/api/v1/catalog").text, format="json-ld")
    odrl = rdflib.Namespace("http://www.w3.org/ns/odrl/2/")
    assert (None, odrl.action, odrl.compensate) in graph


def test_tariffs_are_posted_publicly(app_client: TestClient, ctx: Context) -> None:
    posted = app_client.get("/api/v1/market/tariffs").json()
    assert [p["title"] for p in posted] == ["农产品销售统计查询服务"]
    assert posted[0]["cap_unit_fen"] == 60


def test_products_in_assessment_are_their_seller_and_oversights_and_the_assessors(
    app_client: TestClient, ctx: Context
) -> None:
    pid = product_id(ctx, "去标识化数据订阅")
    for user, seen in (
        (AI, True),
        ("assessor", True),
        (P, True),
        (BA, False),
        ("coop-manager", False),
    ):
        listed = {
            p["id"]
            for p in app_client.get("/api/v1/market/products", headers=auth(ctx, user)).json()
        }
        assert (pid in listed) is seen, user
        one = app_client.get(f"/api/v1/market/products/{pid}", headers=auth(ctx, user))
        assert one.status_code == (200 if seen else 404)
    assert pid not in {p["id"] for p in app_client.get("/api/v1/market/products").json()}
