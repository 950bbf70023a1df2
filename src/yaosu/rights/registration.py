"""Registering a right: application, acceptance, formal review, the public notice window,
objections, and registration codes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, Rows, enforce
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import Conflict, InvalidInput, NotFound
from yaosu.kernel.i18n import Sentences, _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.states import transition
from yaosu.rights.models import KINDS, Grant, Objection, Registration
from yaosu.rights.states import (
    GRANT_MOVES,
    OBJECTION_MOVES,
    REGISTRATION_MOVES,
    GrantState,
    ObjectionState,
    RegistrationState,
)

# What a right may grant onwards: kind held -> kinds it may license or transfer.
MAY_GRANT = {
    "holding": {"holding", "processing", "operation"},
    "processing": {"processing"},
    "operation": {"operation"},
}


# The kinds of right in words, for messages (their codes are models.KINDS).
_KIND_NAMES = {
    "holding": _("data-resource holding right"),
    "processing": _("data processing-use right"),
    "operation": _("data-product operation right"),
}


def registration_resource(session: Session, *, reg: Registration) -> Resource:
    grant = session.get(Grant, reg.grant_id)
    assert grant is not None
    return Resource(
        "registration",
        reg.id,
        reg.applicant_org_id,
        {"status": reg.status, "holder": grant.holder_org_id},
    )


# ``registration_resource`` as SQL, for listings.
ROWS = Rows(
    "registration",
    Registration.applicant_org_id,
    {
        "status": Registration.status,
        "holder": select(Grant.holder_org_id)
        .where(Grant.id == Registration.grant_id)
        .scalar_subquery(),
    },
)


# --- application ---------------------------------------------------------------------------


def apply(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    kind: str,
    dataset_id: str,
    statement: str,
    parent_id: str | None = None,
    holder_org_id: str | None = None,
    transfer: bool = False,
    purposes: list[str] | None = None,
    territory: str = "CN",
    starts_at: datetime | None = None,
    years: int = 3,
) -> Registration:
    """Applies to register a right: an original right of the dataset's owner, or (with
    ``parent_id``) a licence or transfer of a right the applicant holds."""
    if kind not in KINDS:
        raise InvalidInput(problem=_("kind must be one of {kinds}", kinds=list(KINDS)))
    if not statement.strip():
        raise InvalidInput(problem=_("state how the right arose and what it covers"))
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
    starts = starts_at or utcnow()
    ends = starts + timedelta(days=round(365.25 * years))
    parent = None
    if parent_id is None:
        enforce(actor, "right.apply", Resource("right", ds.id, ds.owner_org_id, {"original": True}))
        holder, grantor, source = ds.owner_org_id, None, "original"
        if kind == "holding" and _active_original_holding(session, ds.id):
            raise Conflict(what=_("The holding right of this dataset"), value=ds.id)
    else:
        parent = session.get(Grant, parent_id)
        if parent is None or parent.object_id != ds.id:
            raise NotFound(kind=_("Right"), id=parent_id)
        enforce(
            actor,
            "right.apply",
            Resource("right", parent.id, parent.holder_org_id, {"original": False}),
        )
        if parent.status != GrantState.active:
            raise Conflict(
                what=_("The parent right is {status}", status=parent.status),
                value=parent.id,
            )
        if kind not in MAY_GRANT[parent.kind]:
            raise InvalidInput(
                problem=_(
                    "a {parent} cannot grant a {kind}",
                    parent=_KIND_NAMES[parent.kind],
                    kind=_KIND_NAMES[kind],
                )
            )
        if transfer and kind != parent.kind:
            raise InvalidInput(problem=_("a transfer passes on the same kind of right"))
        if not holder_org_id or accounts.find_org(session, org_id=holder_org_id) is None:
            raise InvalidInput(
                problem=_(
                    "name the receiving organisation ({holder_org_id})", holder_org_id=holder_org_id
                )
            )
        if holder_org_id == parent.holder_org_id:
            raise InvalidInput(problem=_("a right is not granted to its own holder"))
        holder, grantor, source = (
            holder_org_id,
            parent.holder_org_id,
            "transfer" if transfer else "licence",
        )
        _within(parent, purposes or [], territory, starts, ends)
    grant = Grant(
        id=new_id("rgt"),
        kind=kind,
        object_type="dataset",
        object_id=ds.id,
        object_version=version.number,
        object_sha256=version.sha256,
        holder_org_id=holder,
        grantor_org_id=grantor,
        parent_id=parent.id if parent else None,
        source=source,
        purposes=sorted(set(purposes or (parent.purposes if parent else []))),
        territory=territory,
        starts_at=starts,
        ends_at=ends,
        status=GrantState.pending,
    )
    session.add(grant)
    session.flush()
    reg = Registration(
        id=new_id("reg"),
        grant_id=grant.id,
        applicant_org_id=actor.org_id or holder,
        applied_by=actor.id,
        statement=statement.strip(),
        status=RegistrationState.applied,
    )
    session.add(reg)
    session.flush()
    record(
        session,
        actor,
        action="right.apply",
        object_type="registration",
        object_id=reg.id,
        object_org_id=holder,
        request={"kind": kind, "dataset_id": ds.id, "parent_id": parent_id, "holder": holder},
        detail={"grant": grant.id, "source": source, "sha256": version.sha256},
    )
    return reg


def _active_original_holding(session: Session, dataset_id: str) -> bool:
    return (
        session.scalar(
            select(Grant.id).where(
                Grant.object_id == dataset_id,
                Grant.kind == "holding",
                Grant.status.in_((GrantState.pending, GrantState.active)),
                Grant.source == "original",
            )
        )
        is not None
    )


def _within(
    parent: Grant, purposes: list[str], territory: str, starts: datetime, ends: datetime
) -> None:
    """A licence or transfer stays inside the right it comes from."""
    problems = []
    if parent.purposes and (not purposes or any(p not in parent.purposes for p in purposes)):
        problems.append(_("purposes must stay within {purposes}", purposes=parent.purposes))
    if parent.territory != territory and not (
        parent.territory == "CN" and territory.startswith("CN-")
    ):
        problems.append(_("territory must stay within {territory}", territory=parent.territory))
    if starts < parent.starts_at or ends > parent.ends_at:
        problems.append(
            _(
                "the term must stay within the parent right's ({starts_at} to {ends_at})",
                starts_at=format(parent.starts_at, "%Y-%m-%d"),
                ends_at=format(parent.ends_at, "%Y-%m-%d"),
            )
        )
    if problems:
        raise InvalidInput(problem=Sentences(problems))


# --- the registration authority's steps ----------------------------------------------------


def get_registration(session: Session, actor: Actor, *, registration_id: str) -> Registration:
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound(kind=_("Registration"), id=registration_id)
    enforce(actor, "registration.view", registration_resource(session, reg=reg))
    return reg


def accept(
    session: Session, actor: Actor, *, settings: Settings, registration_id: str, note: str = ""
) -> Registration:
    """受理: the application is complete and admissible."""
    return _step(
        session,
        actor,
        registration_id,
        RegistrationState.applied,
        RegistrationState.accepted,
        "right.accept",
        note,
    )


def formal_review(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    registration_id: str,
    passed: bool,
    note: str,
) -> Registration:
    """形式审查: passed opens the public notice window; failed rejects the application."""
    if not note.strip():
        raise InvalidInput(problem=_("a review needs a note"))
    after = RegistrationState.in_notice if passed else RegistrationState.rejected
    reg = _step(
        session, actor, registration_id, RegistrationState.accepted, after, "right.review", note
    )
    if not passed:
        _reject_grant(session, reg)
        return reg
    reg.notice_starts_at = utcnow()
    reg.notice_ends_at = reg.notice_starts_at + timedelta(days=settings.notice_days)
    return reg


def _step(
    session: Session,
    actor: Actor,
    registration_id: str,
    before: RegistrationState,
    after: RegistrationState,
    action: str,
    note: str,
) -> Registration:
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound(kind=_("Registration"), id=registration_id)
    enforce(actor, "registration.decide", registration_resource(session, reg=reg))
    moved = move_registration(reg, after, only_from=before)
    reg.status, reg.decided_by, reg.decision_note = moved, actor.id, note.strip() or None
    record(
        session,
        actor,
        action=action,
        object_type="registration",
        object_id=reg.id,
        object_org_id=reg.applicant_org_id,
        reason=note.strip(),
        detail={"from": before, "to": after},
    )
    return reg


def move_registration(
    reg: Registration, target: RegistrationState, *, only_from: RegistrationState | None = None
) -> RegistrationState:
    return transition(
        REGISTRATION_MOVES,
        reg.status,
        target,
        what=_("Registration"),
        id=reg.id,
        only_from=only_from,
    )


def move_grant(grant: Grant, target: GrantState) -> GrantState:
    return transition(GRANT_MOVES, grant.status, target, what=_("Right"), id=grant.id)


def _grant(session: Session, reg: Registration) -> Grant:
    grant = session.get(Grant, reg.grant_id)
    assert grant is not None
    return grant


def _reject_grant(session: Session, reg: Registration) -> None:
    grant = _grant(session, reg)
    grant.status = move_grant(grant, GrantState.rejected)


def object_to(session: Session, actor: Actor, *, registration_id: str, reason: str) -> Objection:
    """异议: any organisation may object while the notice window is open."""
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound(kind=_("Registration"), id=registration_id)
    enforce(actor, "registration.object", registration_resource(session, reg=reg))
    now = utcnow()
    if (
        reg.status != RegistrationState.in_notice
        or reg.notice_ends_at is None
        or now >= reg.notice_ends_at
    ):
        raise Conflict(what=_("The notice window (closed or not open)"), value=reg.id)
    if len(reason.strip()) < 5:
        raise InvalidInput(problem=_("an objection needs its grounds"))
    objection = Objection(
        id=new_id("obj"),
        registration_id=reg.id,
        org_id=actor.org_id,
        filed_by=actor.id,
        reason=reason.strip(),
        status=ObjectionState.open,
    )
    session.add(objection)
    session.flush()
    record(
        session,
        actor,
        action="right.object",
        object_type="registration",
        object_id=reg.id,
        object_org_id=reg.applicant_org_id,
        reason=reason.strip(),
        detail={"objection": objection.id},
    )
    return objection


def resolve(
    session: Session, actor: Actor, *, objection_id: str, upheld: bool, resolution: str
) -> Objection:
    """The registration authority decides an objection: upheld rejects the registration."""
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(kind=_("Objection"), id=objection_id)
    reg = session.get(Registration, objection.registration_id)
    assert reg is not None
    enforce(actor, "registration.decide", registration_resource(session, reg=reg))
    resolved = transition(
        OBJECTION_MOVES,
        objection.status,
        ObjectionState.upheld if upheld else ObjectionState.dismissed,
        what=_("Objection"),
        id=objection.id,
    )
    if not resolution.strip():
        raise InvalidInput(problem=_("a resolution needs its reasons"))
    objection.status = resolved
    objection.resolution, objection.resolved_by, objection.resolved_at = (
        resolution.strip(),
        actor.id,
        utcnow(),
    )
    if upheld and reg.status == RegistrationState.in_notice:
        reg.status = move_registration(reg, RegistrationState.rejected)
        _reject_grant(session, reg)
    record(
        session,
        actor,
        action="right.resolve",
        object_type="registration",
        object_id=reg.id,
        object_org_id=reg.applicant_org_id,
        reason=resolution.strip(),
        detail={"objection": objection.id, "upheld": upheld, "registration": reg.status},
    )
    return objection


def objections_of(session: Session, *, registration_id: str) -> list[Objection]:
    return list(
        session.scalars(
            select(Objection)
            .where(Objection.registration_id == registration_id)
            .order_by(Objection.created_at)
        )
    )


def _code(session: Session, now: datetime) -> str:
    """Registration codes: YS-<year>-<6-digit sequence within the year>."""
    prefix = f"YS-{now:%Y}-"
    last = session.scalar(
        select(Registration.code)
        .where(Registration.code.like(prefix + "%"))
        .order_by(Registration.code.desc())
        .limit(1)
    )
    return f"{prefix}{(int(last.rsplit('-', 1)[1]) if last else 0) + 1:06d}"
