"""Certificates: issuing a registered right's certificate, signed with the platform's
certificate key, and the file a holder downloads and anyone verifies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts.models import Organisation
from yaosu.audit.keys import Signer, load_or_create
from yaosu.audit.service import record
from yaosu.authorization.policy import enforce
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import Conflict, NotFound
from yaosu.kernel.i18n import label
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.rights import certify
from yaosu.rights.labels import GRANT_SOURCE, RIGHT_KIND
from yaosu.rights.models import Certificate, Grant, Registration
from yaosu.rights.registration import _code, _grant, objections_of, registration_resource


def certificate_signer(settings: Settings) -> Signer:
    """The platform's certificate key, kept next to the audit key (0600), created at first use."""
    name = settings.audit_origin.split("/")[0] + "-certificates"
    return load_or_create(settings.home_dir / "keys" / "certificates.key", name)


def issue(session: Session, settings: Settings, actor: Actor, registration_id: str) -> Certificate:
    """登记: after the notice window with no open objection, the registration code and the
    signed certificate; the right becomes active (a transfer ends the transferor's)."""
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound(kind="登记 / registration", id=registration_id)
    enforce(actor, "registration.decide", registration_resource(session, reg))
    if reg.status != "in_notice":
        raise Conflict(
            what=f"登记状态为 {reg.status} / the registration is {reg.status}", value=reg.id
        )
    if reg.notice_ends_at is None or utcnow() < reg.notice_ends_at:
        raise Conflict(
            what=f"公示期至 {reg.notice_ends_at:%Y-%m-%d %H:%M} 结束 / the notice window runs until {reg.notice_ends_at:%Y-%m-%d %H:%M}",
            value=reg.id,
        )
    open_ones = [o.id for o in objections_of(session, reg.id) if o.status == "open"]
    if open_ones:
        raise Conflict(
            what=f"未处理的异议 / unresolved objections {', '.join(open_ones)}", value=reg.id
        )
    grant = _grant(session, reg)
    now = utcnow()
    reg.code = _code(session, now)
    reg.status, reg.registered_at = "registered", now
    grant.status = "active"
    if grant.source == "transfer" and grant.parent_id:
        parent = session.get(Grant, grant.parent_id)
        if parent is not None:
            parent.status = "transferred"
    certificate = _certificate(session, settings, reg, grant, now)
    session.add(certificate)
    session.flush()
    record(
        session,
        actor,
        "right.register",
        "registration",
        reg.id,
        object_org_id=grant.holder_org_id,
        detail={"code": reg.code, "grant": grant.id, "certificate": certificate.id},
    )
    return certificate


def _certificate(
    session: Session, settings: Settings, reg: Registration, grant: Grant, now: datetime
) -> Certificate:
    ds = catalog_dataset(session, grant.object_id)
    holder = session.get(Organisation, grant.holder_org_id)
    grantor = session.get(Organisation, grant.grantor_org_id) if grant.grantor_org_id else None
    assert holder is not None
    signer = certificate_signer(settings)
    valid_until = grant.ends_at
    document = {
        "type": "yaosu-right-certificate/v1",
        "code": reg.code,
        "right": grant.kind,
        "right_zh": label(RIGHT_KIND, grant.kind).render("zh-CN"),
        "source": grant.source,
        "source_zh": label(GRANT_SOURCE, grant.source).render("zh-CN"),
        "object": {
            "type": grant.object_type,
            "id": grant.object_id,
            "title": ds.title,
            "version": grant.object_version,
            "sha256": grant.object_sha256,
        },
        "holder": {"id": holder.id, "name": holder.name, "uscc": holder.uscc},
        "grantor": {"id": grantor.id, "name": grantor.name} if grantor else None,
        "parent": grant.parent_id,
        "scope": {"purposes": grant.purposes, "territory": grant.territory},
        "valid_from": _iso(grant.starts_at),
        "valid_until": _iso(valid_until),
        "issued_at": _iso(now),
        "issuer": settings.audit_origin,
    }
    return Certificate(
        id=new_id("crt"),
        registration_id=reg.id,
        code=str(reg.code),
        document=document,
        signature=certify.sign(signer.private, document),
        key=signer.verifier_key(),
        issued_at=now,
        valid_until=valid_until,
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def catalog_dataset(session: Session, dataset_id: str) -> Any:
    from yaosu.catalog.models import Dataset

    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise NotFound(kind="数据集", id=dataset_id)
    return ds


def certificate_file(cert: Certificate) -> dict[str, Any]:
    """What a holder downloads and anyone checks with ``yaosu rights verify``."""
    return {"document": cert.document, "signature": cert.signature, "key": cert.key}


def find_certificate(session: Session, code: str) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.code == code))
