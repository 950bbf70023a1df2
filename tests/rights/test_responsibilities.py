"""A right certificate states who answers for what under the right (责任边界): a holding
right's holder as the data's provider, a product-operation right's as the product's operator
over its grantor's data; the statement is in the signed document, which still verifies, and on
the certificate's page."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from yaosu.context import Context
from yaosu.rights.models import Certificate


def demo_certificate(ctx: Context, right: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        for cert in session.scalars(select(Certificate).order_by(Certificate.code)):
            if cert.document["right"] == right:
                return {"document": cert.document, "signature": cert.signature, "key": cert.key}
    raise AssertionError(f"the demo world has no {right} certificate")


def test_an_operation_right_certificate_signs_who_answers_for_what(
    app_client: TestClient, ctx: Context
) -> None:
    file = demo_certificate(ctx, "operation")
    doc = file["document"]
    parts = {p["part"]: p for p in doc["responsibilities"]}
    assert list(parts) == ["provider", "seller", "operator"]
    assert parts["seller"]["org_id"] == doc["holder"]["id"]
    assert parts["provider"]["org_id"] == (doc["grantor"] or doc["holder"])["id"]
    assert "data20_rights" in [d["rule"] for d in parts["seller"]["duties"]]
    verdict = app_client.post("/api/v1/certificates/verify", json=file).json()
    assert verdict["valid"] is True
    page = app_client.get(f"/certificates/{doc['code']}").text
    panel = page[page.index('id="responsibilities"') :]
    assert "数据产品经营方" in panel and doc["holder"]["name"] in panel


def test_a_holding_right_certificate_names_its_holder_the_provider(
    app_client: TestClient, ctx: Context
) -> None:
    file = demo_certificate(ctx, "holding")
    parts = file["document"]["responsibilities"]
    assert [p["part"] for p in parts] == ["provider", "operator"]
    assert parts[0]["org_id"] == file["document"]["holder"]["id"]
    assert app_client.post("/api/v1/certificates/verify", json=file).json()["valid"] is True
