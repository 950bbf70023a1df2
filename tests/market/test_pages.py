"""The market's console pages render for their readers (no browser): the browse page with
prices and pricing classes, a product with its price calculator, the listing wizard, the
listing steps and the desk; and what a seller writes stays text."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import actor, auth, dataset_id
from tests.console.test_pages import csrf
from tests.console.test_pages import login as _login
from tests.market.test_products import body, product_id
from yaosu.context import Context
from yaosu.market import service as market
from yaosu.market.models import LedgerAccount, Product


def login(client: TestClient, username: str) -> None:
    client.cookies.clear()  # as someone else from now on
    _login(client, username)


def test_the_market_lists_products_with_price_and_class(
    app_client: TestClient, ctx: Context
) -> None:
    page = app_client.get("/market").text  # anyone may browse
    assert "农产品销售统计查询服务" in page and "公共数据上限收费" in page and "市场定价" in page
    assert "¥0.50" in page and "面议" in page
    assert "农产品销售月度去标识化数据订阅" not in page  # in assessment, not listed
    assert 'href="/market"' in page  # the navigation's entry
    capped = app_client.get("/market?pricing_class=capped").text
    assert "统计查询服务" in capped and "需求预测模型" not in capped
    tariffs = app_client.get("/market/tariffs").text
    assert "¥0.60" in tariffs and "试行" in tariffs


def test_the_price_calculator_answers_for_a_purpose_and_quantity(
    app_client: TestClient, ctx: Context
) -> None:
    pid = product_id(ctx, "统计查询服务")
    page = app_client.get(f"/market/products/{pid}").text
    assert f'hx-get="/market/products/{pid}/quote"' in page and 'id="quote"' in page
    fragment = app_client.get(
        f"/market/products/{pid}/quote?purpose=industry_development&quantity=12000",
        headers={"HX-Request": "true"},
    ).text
    assert "¥3,600.00" in fragment and "¥108.00" in fragment and "¥3,420.00" in fragment
    assert "<html" not in fragment
    free = app_client.get(f"/market/products/{pid}/quote?purpose=public_welfare&quantity=9").text
    assert "¥0.00" in free
    bad = app_client.get(f"/market/products/{pid}/quote?purpose=industry_development&quantity=abc")
    assert bad.status_code == 200 and 'role="alert"' in bad.text and "数量" in bad.text
    # without htmx, the same form reloads the page with the answer in it
    full = app_client.get(f"/market/products/{pid}?purpose=industry_development&quantity=1001").text
    assert "¥500.30" in full


def test_the_listing_wizard_makes_a_draft(app_client: TestClient, ctx: Context) -> None:
    login(app_client, "ai-analyst")
    page = app_client.get("/market/new").text
    farm = dataset_id(ctx, "农产品")
    assert f'value="{farm}"' in page  # a dataset it holds the operation right over
    form = {
        "csrf_token": csrf(app_client, "/market/new"),
        "kind": "query_service",
        "title": "向导测试产品",
        "dataset": farm,
        "public_data": "yes",
        "pricing_class": "capped",
        "model": "tiered",
        "unit": "calls",
        "tiers": "100:0.50\n:0.25",
        "platform_fee_bp": "300",
        "operator_fee_bp": "100",
        "purposes": ["industry_development", "public_welfare"],
    }
    made = app_client.post("/market/new", data=form, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].endswith("/steps"), made.headers
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.title == "向导测试产品"))
        assert product is not None and product.status == "draft"
        assert product.price["tiers"] == [
            {"up_to": 100, "unit_fen": 50},
            {"up_to": None, "unit_fen": 25},
        ]
    steps = app_client.get(made.headers["location"]).text
    assert "提交合规评估" in steps
    wrong = app_client.post(
        "/market/new", data=form | {"tiers": "100:0.505"}, follow_redirects=False
    )
    assert wrong.status_code == 303 and "error=" in wrong.headers["location"]
    # an organisation that may not sell is told so on the wizard
    login(app_client, "cac-inspector")
    assert 'role="alert"' in app_client.get("/market/new").text


def test_the_steps_page_offers_each_reader_its_step(app_client: TestClient, ctx: Context) -> None:
    pid = product_id(ctx, "去标识化数据订阅")  # in assessment
    login(app_client, "platform-admin")
    page = app_client.get(f"/market/products/{pid}/steps").text
    assert "作出评估结论" in page and "未发现阻碍挂牌的问题" in page
    desk = app_client.get("/market/desk").text
    assert "去标识化数据订阅" in desk and "作出合规评估结论" in desk
    login(app_client, "assessor")
    assert "提交报告" in app_client.get(f"/market/products/{pid}/steps").text
    form = {
        "csrf_token": csrf(app_client, "/market"),
        "kind": "valuation",
        "value": "120000.00",
        "summary": "收益法估值",
    }
    sent = app_client.post(f"/market/products/{pid}/report", data=form, follow_redirects=False)
    assert sent.status_code == 303 and "error=" not in sent.headers["location"]
    login(app_client, "platform-admin")
    form = {"csrf_token": csrf(app_client, "/market"), "action": "pass", "note": "合规"}
    app_client.post(f"/market/products/{pid}/step", data=form, follow_redirects=False)
    product = app_client.get(f"/market/products/{pid}").text
    assert "审核中" in product and "¥120,000.00" in product
    login(app_client, "dsj-inspector")
    assert "审核挂牌" in app_client.get("/market/desk").text


def test_what_a_seller_writes_stays_text(app_client: TestClient, ctx: Context) -> None:
    breaker = '</script><img src=x onerror=alert(1)><b hx-get="/pwn">'
    made = app_client.post(
        "/api/v1/market/products",
        json=body(ctx, title="产品" + breaker, description=breaker),
        headers=auth(ctx, "ai-analyst"),
    )
    assert made.status_code == 201, made.text
    login(app_client, "ai-analyst")
    for path in (
        "/market",
        f"/market/products/{made.json()['id']}",
        f"/market/products/{made.json()['id']}/steps",
    ):
        page = app_client.get(path).text
        assert breaker not in page and "<img src=x" not in page, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, path
    product = app_client.get(f"/market/products/{made.json()['id']}").text
    # data sits in hx-disable regions; the calculator is the app's own htmx element
    assert re.search(r"<div hx-disable>\s*<p class=\"crumbs\">", product)


def test_a_negotiated_product_is_bargained_for_and_ordered_in_the_console(
    app_client: TestClient, ctx: Context
) -> None:
    """The cooperative offers for the forecasting model, the AI company counters, the
    cooperative accepts, and the order form then offers the agreed deal (not the one the
    demo already ordered); bad amounts come back as errors."""
    pid = product_id(ctx, "需求预测模型")
    login(app_client, "coop-manager")
    page = app_client.get(f"/market/products/{pid}").text
    assert "议价" in page and 'action="/market/products/' in page
    form = {"purpose": "industry_development", "quantity": "1", "amount": "18,000.00"}
    token = csrf(app_client, f"/market/products/{pid}")
    made = app_client.post(
        f"/market/products/{pid}/negotiations",
        data=form | {"csrf_token": token},
        follow_redirects=False,
    )
    assert made.status_code == 303 and "error=" not in made.headers["location"]
    bad = app_client.post(
        f"/market/products/{pid}/negotiations",
        data=form | {"amount": "1.005", "csrf_token": token},
        follow_redirects=False,
    )
    assert "error=" in bad.headers["location"]
    from yaosu.market.models import Negotiation

    with ctx.db.transaction() as session:
        deal = session.scalar(
            select(Negotiation).where(
                Negotiation.product_id == pid, Negotiation.amount_fen == 1_800_000
            )
        )
        assert deal is not None and deal.status == "offered"
        deal_id = deal.id
    login(app_client, "ai-analyst")  # the seller's turn
    page = app_client.get(f"/market/products/{pid}").text
    assert f"/market/negotiations/{deal_id}/answer" in page and "¥18,000.00" in page
    countered = app_client.post(
        f"/market/negotiations/{deal_id}/answer",
        data={"answer": "counter", "amount": "21000", "csrf_token": csrf(app_client, "/market")},
        follow_redirects=False,
    )
    assert countered.status_code == 303 and "error=" not in countered.headers["location"]
    login(app_client, "coop-manager")
    page = app_client.get(f"/market/products/{pid}").text
    assert "卖方还价 ¥21,000.00" in page
    app_client.post(
        f"/market/negotiations/{deal_id}/answer",
        data={"answer": "accept", "csrf_token": csrf(app_client, "/market")},
        follow_redirects=False,
    )
    page = app_client.get(f"/market/products/{pid}").text
    offered = re.findall(r'<option value="(neg_\w+)">', page)
    assert offered == [deal_id]  # the agreed deal; the demo's is ordered already


def test_my_revenue_shows_the_accounts_and_the_sales(app_client: TestClient, ctx: Context) -> None:
    login(app_client, "ai-analyst")  # the demo's capped service sold and settled once
    page = app_client.get("/market/revenue").text
    with ctx.db.transaction() as session:
        account = session.get(
            LedgerAccount,
            market.open_account(session, org_id=actor(ctx, "ai-analyst").org_id, code="revenue"),
        )
        assert account is not None
        posted = market.yuan(market.balance(account))
    assert "我的收入" in page and "收入" in page and posted in page  # its revenue account
    assert "已验收" in page and "争议中" in page  # sales by status
    login(app_client, "coop-manager")
    page = app_client.get("/market/revenue").text
    assert "托管账户" in page and "暂无销售" in page
    other = app_client.get(f"/market/revenue?org={product_id(ctx, '需求预测模型')[:0]}x")
    assert other.status_code in (403, 404)
