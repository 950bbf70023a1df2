"""数据产权结构性分置: three separate rights, registered with public notice.

A right is a ``Grant``: a kind (holding, processing-use, product operation), an object (a
dataset version, by content hash), a holder, a grantor, a scope (purposes, territory,
window) and a source. The owner of a dataset registers rights it holds originally; a holder
licenses or transfers *within* its own right's scope and kind (a processing-use right never
grants an operation right). Every grant goes through registration: application, acceptance,
formal review, a public notice window in which any organisation may object (an open
objection blocks), then a registration code and a certificate signed with the platform's
certificate key.

The domain's service module: the registration steps live in ``registration``, issuing and
checking certificates in ``certificates``; this module keeps the reading side and re-exports
what the routes, pages, CLI and other domains call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import _
from yaosu.rights.certificates import certificate_file, certificate_signer, find_certificate, issue
from yaosu.rights.models import Grant, Registration
from yaosu.rights.registration import ROWS as REGISTRATION_ROWS
from yaosu.rights.registration import (
    accept,
    apply,
    formal_review,
    get_registration,
    object_to,
    objections_of,
    registration_resource,
    resolve,
)
from yaosu.rights.states import GrantState, RegistrationState
from yaosu.rights.waiting import (
    RegistrationWork,
    count_open_objections,
    count_registration_steps,
    open_objections,
    registration_steps,
)

__all__ = [
    "RegistrationWork",
    "accept",
    "apply",
    "certificate_file",
    "certificate_signer",
    "chain",
    "count_open_objections",
    "count_registration_steps",
    "find_certificate",
    "formal_review",
    "get_grant",
    "get_registration",
    "grant_resource",
    "issue",
    "list_grants",
    "list_registrations",
    "notices",
    "object_to",
    "objections_of",
    "open_objections",
    "operation_right",
    "registration_codes",
    "registration_resource",
    "registration_steps",
    "resolve",
]


# --- reading -------------------------------------------------------------------------------


def grant_resource(session: Session, *, grant: Grant) -> Resource:
    reg = session.scalar(select(Registration).where(Registration.grant_id == grant.id))
    return Resource(
        "right",
        grant.id,
        grant.holder_org_id,
        {
            "status": grant.status,
            "grantor": grant.grantor_org_id,
            "applicant": reg.applicant_org_id if reg else None,
            "registration": reg.status if reg else None,
        },
    )


def _of_registration(column: Any) -> Any:
    return select(column).where(Registration.grant_id == Grant.id).scalar_subquery()


# ``grant_resource`` as SQL, for listings.
ROWS = Rows(
    "right",
    Grant.holder_org_id,
    {
        "status": Grant.status,
        "grantor": Grant.grantor_org_id,
        "applicant": _of_registration(Registration.applicant_org_id),
        "registration": _of_registration(Registration.status),
    },
)


def get_grant(session: Session, actor: Actor, *, grant_id: str) -> Grant:
    """Registered rights are public (公示), and so are those in their notice window; a right
    whose registration is still under way is its parties' (and oversight's) only."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(kind=_("Right"), id=grant_id)
    enforce(actor, "right.view", grant_resource(session, grant=grant))
    return grant


def chain(session: Session, *, grant: Grant) -> list[Grant]:
    """The chain of title: from the original right down to this one."""
    out = [grant]
    seen = {grant.id}
    while out[0].parent_id:
        parent = session.get(Grant, out[0].parent_id)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        out.insert(0, parent)
    return out


def registration_codes(session: Session, *, grant_id: str) -> list[str]:
    """The registration codes of a right's chain of title, original right first (rights not
    registered have none): what a transaction certificate says it rests on."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        return []
    ids = [g.id for g in chain(session, grant=grant)]
    codes = dict(
        session.execute(
            select(Registration.grant_id, Registration.code).where(
                Registration.grant_id.in_(ids), Registration.code.is_not(None)
            )
        ).all()
    )
    return [str(codes[i]) for i in ids if codes.get(i)]


def title_chain(session: Session, *, grant_id: str) -> list[dict[str, Any]]:
    """A right's chain of title as lineage and certificates show it, original right first:
    each grant's id, kind, holder and registration code (None while it is not registered)."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        return []
    grants = chain(session, grant=grant)
    codes = dict(
        session.execute(
            select(Registration.grant_id, Registration.code).where(
                Registration.grant_id.in_([g.id for g in grants])
            )
        ).all()
    )
    return [
        {"grant": g.id, "kind": g.kind, "holder": g.holder_org_id, "code": codes.get(g.id)}
        for g in grants
    ]


def list_grants(
    session: Session,
    actor: Actor,
    *,
    holder_org_id: str | None = None,
    dataset_id: str | None = None,
) -> list[Grant]:
    """Rights the actor may see (``right.view``), newest first."""
    stmt = (
        select(Grant)
        .where(visible(actor, "right.view", ROWS))
        .order_by(Grant.created_at.desc())
        .limit(500)
    )
    if holder_org_id:
        stmt = stmt.where(Grant.holder_org_id == holder_org_id)
    if dataset_id:
        stmt = stmt.where(Grant.object_id == dataset_id)
    return list(session.scalars(stmt))


def notices(session: Session, *, include_closed: bool = False) -> list[Registration]:
    """The public notice board: registrations in their notice window (and, with
    ``include_closed``, those recently registered or rejected)."""
    states = (
        (RegistrationState.in_notice, RegistrationState.registered, RegistrationState.rejected)
        if include_closed
        else (RegistrationState.in_notice,)
    )
    stmt = (
        select(Registration)
        .where(Registration.status.in_(states))
        .order_by(Registration.notice_starts_at.desc())
        .limit(200)
    )
    return list(session.scalars(stmt))


def list_registrations(session: Session, actor: Actor) -> list[Registration]:
    """Registrations the actor may see (``registration.view``), newest first."""
    stmt = (
        select(Registration)
        .where(visible(actor, "registration.view", REGISTRATION_ROWS))
        .order_by(Registration.created_at.desc())
        .limit(500)
    )
    return list(session.scalars(stmt))


def operation_right(
    session: Session, *, holder_org_id: str, dataset_id: str, sha256: str
) -> Grant | None:
    """The active product-operation right (经营权) ``holder_org_id`` holds over this exact
    version (by content hash), in its term, if any: what a data product's listing rests on."""
    now = utcnow()
    return session.scalar(
        select(Grant)
        .where(
            Grant.kind == "operation",
            Grant.status == GrantState.active,
            Grant.holder_org_id == holder_org_id,
            Grant.object_id == dataset_id,
            Grant.object_sha256 == sha256,
            Grant.starts_at <= now,
            Grant.ends_at > now,
        )
        .order_by(Grant.created_at.desc())
        .limit(1)
    )
