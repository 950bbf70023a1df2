"""交易凭证: each settled order's transaction certificate.

When a day is settled, every order whose escrow was released that day gets a certificate: its
number, the order, contract and access request ids, the product (its version: the content
hashes of the dataset versions it is made from, and of its manifest), the registration codes
of the rights it rests on, both parties with their unified social credit codes, the purpose,
the price rule and the amount with its fees, the hash of the delivery evidence, the
settlement statements, the issue time. It is signed with the platform's certificate key
(Ed25519, the key right certificates use, under its own domain so neither passes for the
other) and its issue is an entry of the transparency log: the certificate file carries that
entry and its inclusion proof against a signed checkpoint, so a holder checks it offline
(``yaosu market verify``) with two pinned keys and nothing else.

A certificate's verification code (``check``, from its signature) is printed beside its
number, as a fapiao's 校验码: the public verification page answers only to both, so
certificates are not enumerable by number.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime
from typing import Any

import rfc8785
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit import transparency
from yaosu.audit.service import record
from yaosu.audit.verify import Checkpoint, VerificationError, Verifier, leaf_hash, verify_inclusion
from yaosu.authorization import service as authorization
from yaosu.authorization.policy import enforce
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.market import products, settlement, sharing
from yaosu.market.models import LedgerTransfer, Order, Product, TransactionCertificate
from yaosu.market.orders import order_resource
from yaosu.market.states import OrderState
from yaosu.rights import certify
from yaosu.rights import service as rights

DOMAIN = b"yaosu-transaction-certificate/v1\n"
ACTION = "order.certify"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def fingerprint(document: dict[str, Any], signature: str) -> str:
    """What the log entry records of a certificate: SHA-256 over its signed message and its
    signature, so the entry binds this exact certificate."""
    return hashlib.sha256(certify.message(document, DOMAIN) + signature.encode()).hexdigest()


def _party(session: Session, org_id: str) -> dict[str, Any]:
    org = accounts.find_org(session, org_id=org_id)
    assert org is not None
    return {"id": org.id, "name": org.name, "uscc": org.uscc}


def released_on(session: Session, *, period: date) -> list[str]:
    """The orders whose escrow was released (their holds posted) on ``period`` (CST)."""
    start, end = settlement.period_bounds(period)
    refs = select(LedgerTransfer.ref).where(
        LedgerTransfer.kind == "post",
        LedgerTransfer.idempotency_key.like("order:%:release:%"),
        LedgerTransfer.created_at >= start,
        LedgerTransfer.created_at < end,
    )
    return list(
        session.scalars(
            select(Order.id)
            .where(Order.id.in_(refs), Order.status == OrderState.accepted)
            .order_by(Order.id)
        )
    )


def issue_for_day(
    session: Session, actor: Actor, *, settings: Settings, period: date
) -> list[TransactionCertificate]:
    """The certificates of the orders released on a settled day (a re-run issues none)."""
    statements = settlement.statements_of(session, period=period)
    if not statements:
        return []
    done = set(session.scalars(select(TransactionCertificate.order_id)))
    out = []
    for order_id in released_on(session, period=period):
        if order_id in done:
            continue
        order = session.get(Order, order_id)
        assert order is not None
        out.append(_issue(session, actor, settings, order, period, statements))
    return out


def _number(session: Session, period: date) -> str:
    prefix = f"JY{period:%Y%m%d}"
    taken = session.scalar(
        select(func.count())
        .select_from(TransactionCertificate)
        .where(TransactionCertificate.number.like(f"{prefix}%"))
    )
    return f"{prefix}{int(taken or 0) + 1:06d}"


def _issue(
    session: Session,
    actor: Actor,
    settings: Settings,
    order: Order,
    period: date,
    statements: list[Any],
) -> TransactionCertificate:
    product = session.get(Product, order.product_id)
    assert product is not None
    purpose = authorization.active_purpose(session, code=order.purpose)
    number = _number(session, period)
    sources = [
        {
            "dataset_id": s["dataset_id"],
            "version": s["version"],
            "sha256": s["sha256"],
            "right_id": s["right_id"],
            "registrations": rights.registration_codes(session, grant_id=s["right_id"]),
        }
        for s in order.terms.get("sources", [])
    ]
    delivery = order.delivery or {}
    signer = rights.certificate_signer(settings)
    document = {
        "type": "yaosu-transaction-certificate/v1",
        "number": number,
        "order": order.id,
        "contract": order.contract_id,
        "request": order.request_id,
        "product": {
            "id": product.id,
            "title": product.title,
            "kind": product.kind,
            "manifest_sha256": _sha256(order.terms.get("manifest", product.manifest)),
            "sources": sources,
        },
        "buyer": _party(session, order.buyer_org_id),
        "seller": _party(session, order.seller_org_id),
        "purpose": {"code": purpose.code, "name": purpose.name_zh},
        "pricing_class": order.pricing_class,
        "price_rule": order.terms.get("price"),
        "quantity": order.quantity,
        "unit": order.unit,
        "amount_fen": order.amount_fen,
        "fees": {
            "platform_fen": order.platform_fee_fen,
            "operator_fen": order.operator_fee_fen,
            "seller_fen": order.seller_fen,
        },
        # Who shared in the sale: each role, contributor and royalty up the lineage (hop, via
        # which purchase), by the rule frozen in the order, with the basis of its amount.
        "shares": {
            "rule": order.terms.get("sharing") or {},
            "lines": [
                {
                    "party": _party(session, line.org_id),
                    "kind": line.kind,
                    "role": line.task,
                    "hop": line.hop,
                    "via_order": line.via_order_id,
                    "product": line.product_id,
                    "amount_fen": line.amount_fen,
                    "share": line.exact,
                    "method": line.evidence.get("method"),
                    "valuation": line.evidence.get("valuation"),
                }
                for line in sharing.lines_of(session, order_id=order.id)
            ],
        },
        # Who answers for what (责任边界), signed as it read at issue; certificates issued
        # before it was added have none (their signed documents are left as they were).
        "responsibilities": products.responsibilities(
            session, product=product, buyer_org_id=order.buyer_org_id
        ),
        "delivery_sha256": delivery.get("evidence_sha256") or _sha256(delivery),
        "settlement": {
            "period": period.isoformat(),
            "statements": sorted(
                s.number
                for s in statements
                if s.org_id in (order.buyer_org_id, order.seller_org_id)
            ),
        },
        "issued_at": _iso(utcnow()),
        "issuer": settings.audit_origin,
    }
    signature = certify.sign(signer.private, document, domain=DOMAIN)
    entry = record(
        session,
        actor,
        action=ACTION,
        object_type="order",
        object_id=order.id,
        object_org_id=order.seller_org_id,
        detail={"number": number, "certificate_sha256": fingerprint(document, signature)},
    )
    cert = TransactionCertificate(
        id=new_id("txc"),
        number=number,
        order_id=order.id,
        check=hashlib.sha256(signature.encode()).hexdigest()[:16],
        document=document,
        signature=signature,
        key=signer.verifier_key(),
        leaf_index=entry.leaf_index,
    )
    session.add(cert)
    session.flush()
    return cert


# --- reading and checking --------------------------------------------------------------------


def of_order(session: Session, *, order_id: str) -> TransactionCertificate | None:
    return session.scalar(
        select(TransactionCertificate).where(TransactionCertificate.order_id == order_id)
    )


def get_certificate(session: Session, actor: Actor, *, number: str) -> TransactionCertificate:
    """A certificate, for its order's parties and oversight."""
    cert = session.scalar(
        select(TransactionCertificate).where(TransactionCertificate.number == number)
    )
    if cert is None:
        raise NotFound(kind=_("Transaction certificate"), id=number)
    order = session.get(Order, cert.order_id)
    assert order is not None
    enforce(actor, "order.view", order_resource(order))
    return cert


def find_checked(session: Session, *, number: str, check: str) -> TransactionCertificate | None:
    """The certificate with this number and verification code (the public page's lookup)."""
    return session.scalar(
        select(TransactionCertificate).where(
            TransactionCertificate.number == number, TransactionCertificate.check == check
        )
    )


def certificate_file(session: Session, *, cert: TransactionCertificate) -> dict[str, Any]:
    """What a party downloads and anyone checks offline: the signed document and, once a
    checkpoint covers it, the log entry recording it with its inclusion proof."""
    out: dict[str, Any] = {
        "document": cert.document,
        "signature": cert.signature,
        "key": cert.key,
    }
    found = transparency.entry_proof(session, index=cert.leaf_index)
    if found is None:
        out["log"] = None  # the next checkpoint will cover it
        return out
    entry, proof, note = found
    out["log"] = {
        "index": cert.leaf_index,
        "entry": base64.b64encode(entry).decode(),
        "proof": [base64.b64encode(p).decode() for p in proof],
        "checkpoint": note,
    }
    return out


def check_file(
    certificate: Any, *, key: str, log_key: str | None = None
) -> tuple[dict[str, Any], int | None]:
    """Checks a certificate file offline: the signature against the pinned certificate key
    and, with ``log_key``, that the log entry recording it is in a checkpoint the log signed.
    Returns the document and the checkpoint size it was proven in (None: no proof checked);
    raises ``VerificationError`` saying what is wrong. Needs nothing but the file and keys."""
    if not isinstance(certificate, dict):
        raise VerificationError("not a Yaosu transaction certificate")
    document = certify.check(certificate, key, domain=DOMAIN)
    if document.get("type") != "yaosu-transaction-certificate/v1":
        raise VerificationError("not a Yaosu transaction certificate")
    proof = certificate.get("log")
    if log_key is None or proof is None:
        return document, None
    try:
        entry_bytes = base64.b64decode(proof["entry"], validate=True)
        entry = json.loads(entry_bytes)
        path = [base64.b64decode(p, validate=True) for p in proof["proof"]]
        checkpoint = Checkpoint.parse(proof["checkpoint"])
        index = int(proof["index"])
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError("the log proof is malformed") from exc
    checkpoint.verify(Verifier.parse(log_key))
    detail = entry.get("detail") or {}
    if entry.get("action") != ACTION or detail.get("number") != document.get("number"):
        raise VerificationError("the log entry is not this certificate's")
    if detail.get("certificate_sha256") != fingerprint(document, certificate["signature"]):
        raise VerificationError("the log recorded a different certificate under this number")
    verify_inclusion(index, checkpoint.size, leaf_hash(entry_bytes), path, checkpoint.root)
    return document, checkpoint.size


def settle(
    session: Session, actor: Actor, *, settings: Settings, period: date | None = None
) -> list[Any]:
    """Clears a day (``settlement.settle``), then certifies the orders released on it: what
    the routes, the console and the CLI call to settle."""
    statements = settlement.settle(
        session, actor, lag_days=settings.settlement_lag_days, period=period
    )
    if statements:
        issue_for_day(session, actor, settings=settings, period=statements[0].period)
    return statements


def verdict(session: Session, *, settings: Settings, certificate: Any) -> dict[str, Any]:
    """``check_file`` against this platform's keys, and the order's status now."""
    key = rights.certificate_signer(settings).verifier_key()
    log_key = transparency.log_signer(settings).verifier_key()
    try:
        document, size = check_file(certificate, key=key, log_key=log_key)
    except VerificationError as exc:
        return {
            "valid": False,
            "problem": str(exc),
            "document": None,
            "proven_in_checkpoint": None,
            "order_status": None,
        }
    order = session.get(Order, str(document.get("order")))
    return {
        "valid": True,
        "problem": None,
        "document": document,
        "proven_in_checkpoint": size,
        "order_status": order.status if order else None,
    }
