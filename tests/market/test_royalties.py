"""Royalties up the lineage, on both backends, on the demo's derived product (the supplier's
村级农资配送参考数据, made from an extract it bought): each purchase a product's lineage shows
it was made from is paid ``royalty_bp`` of the sale, split as that purchase's own sale was;
all royalties together at most ``royalty_cap_bp``; no further than ``royalty_depth`` hops; a
derived product stays within the purpose its data was bought for."""

from __future__ import annotations

from fractions import Fraction

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import auth
from yaosu.context import Context
from yaosu.market import products, sharing
from yaosu.market.models import Order, Product, ShareLine

DERIVED = "村级农资配送参考数据"


def derived_order(ctx: Context) -> tuple[str, str]:
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.title == DERIVED))
        assert product is not None
        order = session.scalar(select(Order).where(Order.product_id == product.id))
        assert order is not None
        return product.id, order.id


def plan(ctx: Context, order_id: str, **settings: int) -> list[sharing.Planned]:
    with ctx.db.transaction() as session:
        order = session.get(Order, order_id)
        assert order is not None
        return sharing.plan(session, order=order, settings=ctx.settings.model_copy(update=settings))


def test_a_derived_sale_pays_a_royalty_split_as_the_upstream_sale_was(ctx: Context) -> None:
    _product, order_id = derived_order(ctx)
    with ctx.db.transaction() as session:
        order = session.get(Order, order_id)
        assert order is not None
        seller_fen, seller = order.seller_fen, order.seller_org_id
        posted = list(session.scalars(select(ShareLine).where(ShareLine.order_id == order_id)))
        (upstream_id,) = {line.via_order_id for line in posted}
        upstream = session.get(Order, upstream_id)
        assert upstream is not None and upstream.status == "accepted"
        shared_up = {
            line.org_id: line.evidence["weight"]
            for line in session.scalars(
                select(ShareLine).where(
                    ShareLine.order_id == upstream_id, ShareLine.kind == "contributor"
                )
            )
        }
    planned = plan(ctx, order_id)
    royalties = [p for p in planned if p.kind == "royalty"]
    # the sale's lines conserve it to the fen; the royalty is royalty_bp of it
    assert sum(p.amount for p in planned) == seller_fen
    assert sum(p.exact for p in royalties) == Fraction(ctx.settings.royalty_bp, 10_000)
    assert abs(sum(p.amount for p in royalties) - seller_fen * ctx.settings.royalty_bp / 10_000) < 1
    assert {p.hop for p in royalties} == {1} and {p.via_order_id for p in royalties} == {
        upstream_id
    }
    # split as the upstream sale was: its contributors by their weights, its seller the rest
    contributors = {p.org_id: p for p in royalties if p.evidence.get("as") == "contributor"}
    assert set(contributors) == set(shared_up)
    assert {p.evidence["method"] for p in contributors.values()} == {"as_shared"}
    assert any(p.evidence.get("as") == "seller" for p in royalties)
    # what was posted is what the plan says, each line held until its window closes
    assert sorted((line.org_id, line.amount_fen) for line in posted) == sorted(
        (p.org_id, p.amount) for p in planned if p.kind != "seller" and p.org_id != seller
    )
    assert {line.status for line in posted} == {"held"}


def test_royalties_respect_the_cap_and_the_depth(ctx: Context) -> None:
    _product, order_id = derived_order(ctx)
    capped = plan(ctx, order_id, royalty_bp=4000, royalty_cap_bp=1500)
    assert sum(p.exact for p in capped if p.kind == "royalty") == Fraction(1500, 10_000)
    none = plan(ctx, order_id, royalty_depth=0)
    assert [p.kind for p in none] == ["seller"]  # the derived product has no rule of its own
    free = plan(ctx, order_id, royalty_bp=0)
    assert sum(p.amount for p in free if p.kind == "royalty") == 0


def test_a_derived_product_stays_within_the_purpose_its_data_was_bought_for(
    app_client: TestClient, ctx: Context
) -> None:
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.title == DERIVED))
        assert product is not None
        (source,) = [{"dataset_id": d} for d in _sources(session, product.id)]
    body = {
        "kind": "dataset_version",
        "title": "越权的衍生产品",
        "sources": [source],
        "public_data": False,
        "pricing_class": "market",
        "price": {"model": "fixed", "unit": "count", "unit_fen": 100_000},
        "purposes": ["industry_development", "commercial_marketing"],
    }
    refused = app_client.post(
        "/api/v1/market/products",
        json=body,
        headers=auth(ctx, "supplier-admin") | {"Accept-Language": "en"},
    )
    assert refused.status_code == 422, refused.text
    assert "commercial_marketing" in refused.json()["error"]["message"]
    within = app_client.post(
        "/api/v1/market/products",
        json=body | {"purposes": ["industry_development"]},
        headers=auth(ctx, "supplier-admin"),
    )
    assert within.status_code == 201, within.text


def _sources(session: Session, product_id: str) -> list[str]:
    return [s.dataset_id for s in products.sources_of(session, product_id=product_id)]
