"""Transaction certificates (交易凭证), on both backends: a settled order gets one, signed and
recorded in the transparency log; it is checked offline (signature and inclusion proof),
from the command line, through the API and on the public page by number and verification
code; any change to it, its log entry or its proof is caught; a right certificate does not
pass for one; a day settled twice certifies once."""

from __future__ import annotations

import base64
import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import actor, auth
from tests.market.test_orders import contract, place
from tests.test_cli import run
from yaosu.audit import transparency
from yaosu.audit.verify import VerificationError
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.market import certificates
from yaosu.market import service as market
from yaosu.market.models import Order, TransactionCertificate
from yaosu.rights.service import certificate_signer

COOP = "coop-manager"


def keys(ctx: Context) -> dict[str, str]:
    return {
        "key": certificate_signer(ctx.settings).verifier_key(),
        "log_key": transparency.log_signer(ctx.settings).verifier_key(),
    }


def demo_certificate(ctx: Context) -> TransactionCertificate:
    with ctx.db.transaction() as session:
        cert = session.scalar(select(TransactionCertificate))
        assert cert is not None, "the demo's settled order has a certificate"
        session.expunge(cert)
        return cert


def other_root(note: str) -> str:
    """The checkpoint with another root hash in its body, its signatures kept."""
    lines = note.split("\n")
    lines[2] = base64.b64encode(b"\x00" * 32).decode()
    return "\n".join(lines)


def downloaded(app_client: TestClient, ctx: Context, number: str, user: str = COOP) -> Any:
    got = app_client.get(f"/api/v1/market/certificates/{number}", headers=auth(ctx, user))
    assert got.status_code == 200, got.text
    return got.json()


def test_a_settled_order_has_a_certificate_checked_offline(
    app_client: TestClient, ctx: Context
) -> None:
    cert = demo_certificate(ctx)
    file = downloaded(app_client, ctx, cert.number)
    doc = file["document"]
    with ctx.db.transaction() as session:
        order = session.get(Order, cert.order_id)
        assert order is not None and order.status == "accepted"
        assert doc["order"] == order.id and doc["contract"] == order.contract_id
        assert doc["amount_fen"] == order.amount_fen
        assert doc["fees"] == {
            "platform_fen": order.platform_fee_fen,
            "operator_fen": order.operator_fee_fen,
            "seller_fen": order.seller_fen,
        }
        assert doc["delivery_sha256"] == (order.delivery or {})["evidence_sha256"]
    assert doc["buyer"]["name"] == "青禾农民专业合作社"
    registrations = [c for s in doc["product"]["sources"] for c in s["registrations"]]
    assert registrations, "it names the registrations of the rights it rests on"
    assert doc["settlement"]["statements"]
    checked, size = certificates.check_file(file, **keys(ctx))
    assert checked == doc and size is not None and size > cert.leaf_index


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda f: f["document"].__setitem__("amount_fen", 1), "altered"),
        (lambda f: f["document"]["buyer"].__setitem__("name", "某公司"), "altered"),
        (lambda f: f["log"]["proof"].reverse(), "proof"),
        (lambda f: f["log"].__setitem__("index", f["log"]["index"] + 1), None),
        (lambda f: f["log"].__setitem__("entry", base64.b64encode(b"{}").decode()), "entry"),
        (lambda f: f["log"].__setitem__("checkpoint", other_root(f["log"]["checkpoint"])), None),
        (lambda f: f.__setitem__("signature", base64.b64encode(b"x" * 64).decode()), "altered"),
    ],
    ids=["amount", "buyer", "proof", "index", "entry", "checkpoint", "signature"],
)
def test_any_change_is_caught(
    app_client: TestClient, ctx: Context, tamper: Any, problem: str | None
) -> None:
    file = downloaded(app_client, ctx, demo_certificate(ctx).number)
    changed = copy.deepcopy(file)
    tamper(changed)
    with pytest.raises(VerificationError, match=problem):
        certificates.check_file(changed, **keys(ctx))
    verdict = app_client.post("/api/v1/market/certificates/verify", json=changed).json()
    assert verdict["valid"] is False and verdict["problem"]


def test_a_right_certificate_does_not_pass_for_a_transaction_certificate(
    app_client: TestClient, ctx: Context
) -> None:
    from yaosu.rights.models import Certificate

    with ctx.db.transaction() as session:
        right = session.scalar(select(Certificate))
        assert right is not None
        file = {"document": right.document, "signature": right.signature, "key": right.key}
    with pytest.raises(VerificationError):
        certificates.check_file(file, **keys(ctx))


def test_the_command_line_checks_it_offline(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    file = downloaded(app_client, ctx, demo_certificate(ctx).number)
    good = tmp_path / "cert.json"
    good.write_text(json.dumps(file, ensure_ascii=False), encoding="utf-8")
    ok = run(ctx, "market", "verify", str(good), "--key", keys(ctx)["key"])
    assert ok.returncode == 0, ok.stderr
    assert "有效" in ok.stdout and file["document"]["number"] in ok.stdout
    assert "检查点" in ok.stdout  # proven in a checkpoint
    file["document"]["amount_fen"] += 100
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(file), encoding="utf-8")
    refused = run(ctx, "market", "verify", str(bad))
    assert refused.returncode == 1 and "无效" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_public_page_answers_to_number_and_code_only(
    app_client: TestClient, ctx: Context
) -> None:
    cert = demo_certificate(ctx)
    page = app_client.get(f"/market/certificates/{cert.number}/{cert.check}")
    assert page.status_code == 200 and cert.number in page.text
    assert 'role="status"' in page.text and "青禾农民专业合作社" in page.text
    assert app_client.get(f"/market/certificates/{cert.number}/0000000000000000").status_code == 404
    pdf = app_client.get(f"/market/certificates/{cert.number}/{cert.check}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and b"STSong-Light" in pdf.content
    file = app_client.get(f"/market/certificates/{cert.number}/{cert.check}/file")
    assert file.json()["document"]["number"] == cert.number
    # the API's copy is the parties' and oversight's; others cannot tell it exists
    url = f"/api/v1/market/certificates/{cert.number}"
    assert app_client.get(url, headers=auth(ctx, "ai-analyst")).status_code == 200
    assert app_client.get(url, headers=auth(ctx, "dsj-inspector")).status_code == 200
    assert app_client.get(url, headers=auth(ctx, "bureau-analyst")).status_code == 404
    assert app_client.get(url).status_code == 401


def test_settling_a_day_certifies_the_orders_released_on_it_once(
    app_client: TestClient, ctx: Context
) -> None:
    order = contract(app_client, ctx, place(app_client, ctx, quantity=40))
    day = market.cst_day(utcnow()) - timedelta(days=2)  # clearable, not yet settled
    at = market.period_bounds(day)[0] + timedelta(hours=9)
    yuan = f"{order['amount_due_fen'] // 100}.{order['amount_due_fen'] % 100:02d}"
    data = f"交易日期,摘要,收入金额,对方户名\n{day},{order['payment_reference']},{yuan},合作社\n"
    platform, buyer = actor(ctx, "platform-admin"), actor(ctx, COOP)
    with ctx.db.transaction() as session:
        market.import_payments(
            session, platform, settings=ctx.settings, data=data.encode(), filename="d2.csv", at=at
        )
        market.accept_order(
            session, buyer, order_id=order["id"], settings=ctx.settings, at=at + timedelta(hours=2)
        )
    settled = app_client.post(
        "/api/v1/market/settlements", json={"period": str(day)}, headers=auth(ctx, "platform-admin")
    )
    assert settled.status_code == 200, settled.text
    again = app_client.post(
        "/api/v1/market/settlements", json={"period": str(day)}, headers=auth(ctx, "platform-admin")
    )
    assert again.status_code == 200
    with ctx.db.transaction() as session:
        made = session.scalar(
            select(func.count())
            .select_from(TransactionCertificate)
            .where(TransactionCertificate.order_id == order["id"])
        )
        assert made == 1
    shown = app_client.get(f"/api/v1/market/orders/{order['id']}", headers=auth(ctx, COOP)).json()
    assert shown["certificate"].startswith(f"JY{day:%Y%m%d}")
    file = downloaded(app_client, ctx, shown["certificate"])
    document, size = certificates.check_file(file, **keys(ctx))
    assert document["settlement"]["period"] == str(day)
    assert size is None or size > 0  # proven once a checkpoint covers it
