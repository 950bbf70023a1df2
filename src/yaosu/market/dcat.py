"""Listed data products in the DCAT catalog, each with its offer as an ODRL 2.2 policy
(``odrl:Offer``): use for the product's purposes, the price a ``compensate`` duty whose
``payAmount`` is the price per charge unit in yuan (tiers and the cap beside it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization.policy import visible
from yaosu.catalog.service import dcat_entries_from
from yaosu.kernel.actor import Actor
from yaosu.market.models import Product, ProductSource
from yaosu.market.products import ROWS
from yaosu.market.states import ListingState

RENMINBI = "http://dbpedia.org/resource/Renminbi"
DATA_SERVICE = ("query_service", "extract_subscription", "compute_service")


def _yuan(fen: int) -> dict[str, str]:
    whole, cents = divmod(fen, 100)
    return {"@value": f"{whole}.{cents:02d}", "@type": "xsd:decimal"}


def _pay(fen: int) -> dict[str, Any]:
    return {
        "odrl:leftOperand": {"@id": "odrl:payAmount"},
        "odrl:operator": {"@id": "odrl:eq"},
        "odrl:rightOperand": _yuan(fen),
        "odrl:unit": {"@id": RENMINBI},
    }


def offer(product: Product, *, base: str) -> dict[str, Any]:
    """The product's offer as an ODRL policy."""
    url = f"{base}/api/v1/market/products/{product.id}"
    price = product.price
    permission: dict[str, Any] = {
        "odrl:target": {"@id": url},
        "odrl:assigner": {"@id": f"{base}/api/v1/orgs/{product.seller_org_id}"},
        "odrl:action": {"@id": "odrl:use"},
        "odrl:constraint": [
            {
                "odrl:leftOperand": {"@id": "odrl:purpose"},
                "odrl:operator": {"@id": "odrl:isAnyOf"},
                "odrl:rightOperand": list(product.purposes),
            }
        ],
    }
    duty: dict[str, Any] = {"odrl:action": {"@id": "odrl:compensate"}, "yaosu:unit": price["unit"]}
    if price["model"] == "fixed":
        duty["odrl:constraint"] = [_pay(price["unit_fen"])]
    elif price["model"] == "tiered":
        duty["odrl:constraint"] = [_pay(price["tiers"][0]["unit_fen"])]
        duty["yaosu:tiers"] = [
            {"yaosu:upTo": t["up_to"], "yaosu:unitPrice": _yuan(t["unit_fen"])}
            for t in price["tiers"]
        ]
    elif price["model"] == "negotiated":
        duty["yaosu:negotiated"] = True
    if price["model"] != "free":
        permission["odrl:duty"] = [duty]
    out: dict[str, Any] = {
        "@id": f"{url}#offer",
        "@type": "odrl:Offer",
        "odrl:uid": {"@id": f"{url}#offer"},
        "odrl:profile": {"@id": "https://yaosu.dev/odrl/market"},
        "odrl:permission": [permission],
        "yaosu:pricingClass": product.pricing_class,
        "yaosu:platformFeeBp": product.platform_fee_bp,
        "yaosu:operatorFeeBp": product.operator_fee_bp,
    }
    if product.cap_unit_fen is not None:
        out["yaosu:capUnitPrice"] = _yuan(product.cap_unit_fen)
    return out


@dcat_entries_from
def listed_products(session: Session, actor: Actor, *, base: str) -> list[dict[str, Any]]:
    products = list(
        session.scalars(
            select(Product)
            .where(Product.status == ListingState.listed, visible(actor, "product.view", ROWS))
            .order_by(Product.first_listed_at, Product.id)
        )
    )
    names = accounts.org_names(session, ids={p.seller_org_id for p in products})
    sources: dict[str, list[ProductSource]] = {}
    for src in session.scalars(
        select(ProductSource).where(ProductSource.product_id.in_([p.id for p in products]))
    ):
        sources.setdefault(src.product_id, []).append(src)
    out = []
    for product in products:
        url = f"{base}/api/v1/market/products/{product.id}"
        out.append(
            {
                "@id": url,
                "@type": "dcat:DataService" if product.kind in DATA_SERVICE else "dcat:Dataset",
                "dct:identifier": product.id,
                "dct:title": {"@value": product.title, "@language": "zh"},
                "dct:description": {"@value": product.description, "@language": "zh"},
                "dct:publisher": {
                    "@id": f"{base}/api/v1/orgs/{product.seller_org_id}",
                    "@type": "foaf:Organization",
                    "foaf:name": names.get(product.seller_org_id, ""),
                },
                "dct:issued": {
                    "@value": (product.first_listed_at or product.created_at).isoformat(),
                    "@type": "xsd:dateTime",
                },
                "dct:source": [
                    {"@id": f"{base}/api/v1/datasets/{s.dataset_id}/versions/{s.version}"}
                    for s in sources.get(product.id, [])
                ],
                "yaosu:productKind": product.kind,
                "odrl:hasPolicy": offer(product, base=base),
            }
        )
    return out
