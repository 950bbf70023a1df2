"""What waits for the registration authority, for the inbox: applications to accept,
accepted ones to review formally, registrations whose notice window closed with no open
objection (ready for their code and certificate), and open objections to resolve.

Each item is one ``decide`` allows (``registration.decide``, asked about its registration);
the counts are one query each, and none for an actor who decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from yaosu.authorization.policy import Resource, decide
from yaosu.kernel.actor import Actor
from yaosu.rights.models import Grant, Objection, Registration
from yaosu.rights.registration import registration_resource
from yaosu.rights.states import ObjectionState, RegistrationState

ACCEPT, REVIEW, ISSUE = "accept", "review", "issue"
_STEP = {RegistrationState.applied: ACCEPT, RegistrationState.accepted: REVIEW}


@dataclass(frozen=True)
class RegistrationWork:
    """A registration and the authority's next step on it (``accept``, ``review``, ``issue``,
    or ``resolve`` an objection, then named by ``objection_id``)."""

    registration_id: str
    step: str
    right_kind: str
    dataset_id: str
    applicant_org_id: str
    holder_org_id: str
    at: datetime
    objection_id: str | None = None
    objector_org_id: str | None = None


def _decides(session: Session, actor: Actor, reg: Registration | None) -> bool:
    # Asked about the registration itself for each item (its grant is already loaded: no
    # query); about no registration in particular before any query is made, and for the
    # counts (the rule reads neither a registration's status nor its parties).
    resource = (
        registration_resource(session, reg=reg)
        if reg is not None
        else Resource("registration", "*")
    )
    return decide(actor, "registration.decide", resource).allowed


def _open_objection() -> ColumnElement[bool]:
    return exists().where(
        Objection.registration_id == Registration.id, Objection.status == ObjectionState.open
    )


def _steps(now: datetime) -> ColumnElement[bool]:
    return or_(
        Registration.status.in_(tuple(_STEP)),
        and_(
            Registration.status == RegistrationState.in_notice,
            Registration.notice_ends_at <= now,
            ~_open_objection(),
        ),
    )


def count_registration_steps(session: Session, actor: Actor, *, now: datetime) -> int:
    if not _decides(session, actor, None):
        return 0
    return session.scalar(select(func.count()).select_from(Registration).where(_steps(now))) or 0


def registration_steps(
    session: Session, actor: Actor, *, now: datetime, limit: int = 50
) -> list[RegistrationWork]:
    """The registrations waiting for the authority's next step, oldest first."""
    if not _decides(session, actor, None):
        return []
    stmt = (
        select(Registration, Grant)
        .join(Grant, Grant.id == Registration.grant_id)
        .where(_steps(now))
        .order_by(Registration.created_at, Registration.id)
        .limit(limit)
    )
    return [
        RegistrationWork(
            reg.id,
            _STEP.get(RegistrationState(reg.status), ISSUE),
            grant.kind,
            grant.object_id,
            reg.applicant_org_id,
            grant.holder_org_id,
            reg.notice_ends_at or reg.created_at,
        )
        for reg, grant in session.execute(stmt)
        if _decides(session, actor, reg)
    ]


def count_open_objections(session: Session, actor: Actor) -> int:
    if not _decides(session, actor, None):
        return 0
    stmt = (
        select(func.count()).select_from(Objection).where(Objection.status == ObjectionState.open)
    )
    return session.scalar(stmt) or 0


def open_objections(session: Session, actor: Actor, *, limit: int = 50) -> list[RegistrationWork]:
    """Objections waiting for the authority's resolution, oldest first."""
    if not _decides(session, actor, None):
        return []
    stmt = (
        select(Objection, Registration, Grant)
        .join(Registration, Registration.id == Objection.registration_id)
        .join(Grant, Grant.id == Registration.grant_id)
        .where(Objection.status == ObjectionState.open)
        .order_by(Objection.created_at, Objection.id)
        .limit(limit)
    )
    return [
        RegistrationWork(
            reg.id,
            "resolve",
            grant.kind,
            grant.object_id,
            reg.applicant_org_id,
            grant.holder_org_id,
            objection.created_at,
            objection.id,
            objection.org_id,
        )
        for objection, reg, grant in session.execute(stmt)
        if _decides(session, actor, reg)
    ]
