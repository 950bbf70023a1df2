"""Certificates: issuing a registered right's certificate, signed with the platform's
certificate key, and the file a holder downloads and anyone verifies. A certificate states
who answers for what under the right (责任边界)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.keys import Signer, load_or_create
from yaosu.audit.service import record
from yaosu.authorization.policy import enforce
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import Conflict, NotFound
from yaosu.kernel.i18n import _, label
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.privacy.service import confirmed_screen
from yaosu.rights import certify
from yaosu.rights.labels import GRANT_SOURCE, RIGHT_KIND
from yaosu.rights.models import Certificate, Grant, Registration
from yaosu.rights.registration import (
    _code,
    _grant,
    move_grant,
    move_registration,
    objections_of,
    registration_resource,
)
from yaosu.rights.states import GrantState, ObjectionState, RegistrationState


def certificate_signer(settings: Settings) -> Signer:
    """The platform's certificate key (0600, ``settings.certificate_key_path``), created at
    first use."""
    name = settings.audit_origin.split("/")[0] + "-certificates"
    return load_or_create(settings.certificate_key_path, name)


def issue(
    session: Session, actor: Actor, *, settings: Settings, registration_id: str
) -> Certificate:
    """登记: after the notice window with no open objection, the registration code and the
    signed certificate; the right becomes active (a transfer ends the transferor's)."""
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound(kind=_("Registration"), id=registration_id)
    enforce(actor, "registration.decide", registration_resource(session, reg=reg))
    registered = move_registration(reg, RegistrationState.registered)
    if reg.notice_ends_at is None or utcnow() < reg.notice_ends_at:
        raise Conflict(
            what=_(
                "The notice window runs until {notice_ends_at}",
                notice_ends_at=format(reg.notice_ends_at, "%Y-%m-%d %H:%M"),
            ),
            value=reg.id,
        )
    open_ones = [
        o.id
        for o in objections_of(session, registration_id=reg.id)
        if o.status == ObjectionState.open
    ]
    if open_ones:
        raise Conflict(
            what=_("Unresolved objections {value}", value=", ".join(open_ones)), value=reg.id
        )
    grant = _grant(session, reg)
    now = utcnow()
    reg.code = _code(session, now)
    reg.status, reg.registered_at = registered, now
    grant.status = move_grant(grant, GrantState.active)
    if grant.source == "transfer" and grant.parent_id:
        parent = session.get(Grant, grant.parent_id)
        if parent is not None:  # a right passes on once: a second transfer of it is refused
            parent.status = move_grant(parent, GrantState.transferred)
    certificate = _certificate(session, settings, reg, grant, now)
    session.add(certificate)
    session.flush()
    record(
        session,
        actor,
        action="right.register",
        object_type="registration",
        object_id=reg.id,
        object_org_id=grant.holder_org_id,
        detail={"code": reg.code, "grant": grant.id, "certificate": certificate.id},
    )
    return certificate


def _certificate(
    session: Session, settings: Settings, reg: Registration, grant: Grant, now: datetime
) -> Certificate:
    ds = catalog.find_dataset(session, dataset_id=grant.object_id)
    if ds is None:
        raise NotFound(kind="数据集", id=grant.object_id)
    holder = accounts.find_org(session, org_id=grant.holder_org_id)
    grantor = accounts.find_org(session, org_id=grant.grantor_org_id)
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
        # Who answers for what (责任边界). Certificates issued before it was added have none:
        # their signed documents stay as they were, and verify as they did.
        "responsibilities": _responsibilities(session, grant),
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


def _responsibilities(session: Session, grant: Grant) -> list[dict[str, Any]]:
    """The parts a right puts its holder in: a holding right's holder is the data's provider;
    a processing-use right's is a data user and a product-operation right's operates the
    product, each from the data its grantor (or, originally, the holder itself) provides."""
    holder = grant.holder_org_id
    screen = confirmed_screen(session, dataset_id=grant.object_id, version=grant.object_version)
    return accounts.boundaries(
        session,
        providers=[holder if grant.kind == "holding" else grant.grantor_org_id or holder],
        seller=holder if grant.kind == "operation" else None,
        consumer=holder if grant.kind == "processing" else None,
        personal=bool(screen and screen.personal),
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_file(cert: Certificate) -> dict[str, Any]:
    """What a holder downloads and anyone checks with ``yaosu rights verify``."""
    return {"document": cert.document, "signature": cert.signature, "key": cert.key}


def find_certificate(session: Session, *, code: str) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.code == code))
