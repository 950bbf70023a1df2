"""Registering a right: application, acceptance, formal review, the public notice window,
objections, and registration codes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts.models import Organisation
from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, enforce
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import Conflict, InvalidInput, NotFound
from yaosu.kernel.i18n import label
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.rights.labels import RIGHT_KIND
from yaosu.rights.models import KINDS, Grant, Objection, Registration

# What a right may grant onwards: kind held -> kinds it may license or transfer.
MAY_GRANT = {
    "holding": {"holding", "processing", "operation"},
    "processing": {"processing"},
    "operation": {"operation"},
}


def registration_resource(session: Session, reg: Registration) -> Resource:
    grant = session.get(Grant, reg.grant_id)
    assert grant is not None
    return Resource(
        "registration",
        reg.id,
        reg.applicant_org_id,
        {"status": reg.status, "holder": grant.holder_org_id},
    )


# --- application ---------------------------------------------------------------------------


def apply(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
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
        raise InvalidInput(
            problem=f"权利类型须为 {list(KINDS)} 之一 / kind must be one of {list(KINDS)}"
        )
    if not statement.strip():
        raise InvalidInput(
            problem="须说明权利来源与范围 / state how the right arose and what it covers"
        )
    ds = catalog.get_dataset(session, actor, dataset_id)
    version = catalog.get_version(session, actor, ds.id, None)
    starts = starts_at or utcnow()
    ends = starts + timedelta(days=round(365.25 * years))
    parent = None
    if parent_id is None:
        enforce(actor, "right.apply", Resource("right", ds.id, ds.owner_org_id, {"original": True}))
        holder, grantor, source = ds.owner_org_id, None, "original"
        if kind == "holding" and _active_original_holding(session, ds.id):
            raise Conflict(
                what="该数据集的数据资源持有权登记 / the holding right of this dataset", value=ds.id
            )
    else:
        parent = session.get(Grant, parent_id)
        if parent is None or parent.object_id != ds.id:
            raise NotFound(kind="权利 / right", id=parent_id)
        enforce(
            actor,
            "right.apply",
            Resource("right", parent.id, parent.holder_org_id, {"original": False}),
        )
        if parent.status != "active":
            raise Conflict(
                what=f"所依据的权利状态为 {parent.status} / the parent right is {parent.status}",
                value=parent.id,
            )
        if kind not in MAY_GRANT[parent.kind]:
            raise InvalidInput(
                problem=f"{label(RIGHT_KIND, parent.kind).render('zh-CN')}不能授予{label(RIGHT_KIND, kind).render('zh-CN')} / a {parent.kind} right cannot grant a {kind} right"
            )
        if transfer and kind != parent.kind:
            raise InvalidInput(
                problem="转让只能转让同一种权利 / a transfer passes on the same kind of right"
            )
        if not holder_org_id or session.get(Organisation, holder_org_id) is None:
            raise InvalidInput(
                problem=f"须指明受让或被许可机构 / name the receiving organisation ({holder_org_id})"
            )
        if holder_org_id == parent.holder_org_id:
            raise InvalidInput(problem="不能授予自己 / a right is not granted to its own holder")
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
        status="pending",
    )
    session.add(grant)
    session.flush()
    reg = Registration(
        id=new_id("reg"),
        grant_id=grant.id,
        applicant_org_id=actor.org_id or holder,
        applied_by=actor.id,
        statement=statement.strip(),
        status="applied",
    )
    session.add(reg)
    session.flush()
    record(
        session,
        actor,
        "right.apply",
        "registration",
        reg.id,
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
                Grant.status.in_(("pending", "active")),
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
        problems.append(
            f"用途须在 {parent.purposes} 之内 / purposes must stay within {parent.purposes}"
        )
    if parent.territory != territory and not (
        parent.territory == "CN" and territory.startswith("CN-")
    ):
        problems.append(
            f"地域须在 {parent.territory} 之内 / territory must stay within {parent.territory}"
        )
    if starts < parent.starts_at or ends > parent.ends_at:
        problems.append(
            f"期限须在 {parent.starts_at:%Y-%m-%d} 至 {parent.ends_at:%Y-%m-%d} 之内 / "
            "the term must stay within the parent right's"
        )
    if problems:
        raise InvalidInput(problem="；".join(problems))


# --- the registration authority's steps ----------------------------------------------------


def get_registration(session: Session, actor: Actor, registration_id: str) -> Registration:
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound(kind="登记 / registration", id=registration_id)
    enforce(actor, "registration.view", registration_resource(session, reg))
    return reg


def accept(
    session: Session, settings: Settings, actor: Actor, registration_id: str, *, note: str = ""
) -> Registration:
    """受理: the application is complete and admissible."""
    return _step(session, actor, registration_id, "applied", "accepted", "right.accept", note)


def formal_review(
    session: Session,
    settings: Settings,
    actor: Actor,
    registration_id: str,
    *,
    passed: bool,
    note: str,
) -> Registration:
    """形式审查: passed opens the public notice window; failed rejects the application."""
    if not note.strip():
        raise InvalidInput(problem="审查须说明意见 / a review needs a note")
    if not passed:
        reg = _step(session, actor, registration_id, "accepted", "rejected", "right.review", note)
        _grant(session, reg).status = "rejected"
        return reg
    reg = _step(session, actor, registration_id, "accepted", "in_notice", "right.review", note)
    reg.notice_starts_at = utcnow()
    reg.notice_ends_at = reg.notice_starts_at + timedelta(days=settings.notice_days)
    return reg


def _step(
    session: Session,
    actor: Actor,
    registration_id: str,
    before: str,
    after: str,
    action: str,
    note: str,
) -> Registration:
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound(kind="登记 / registration", id=registration_id)
    enforce(actor, "registration.decide", registration_resource(session, reg))
    if reg.status != before:
        raise Conflict(
            what=f"登记状态为 {reg.status} / the registration is {reg.status}", value=reg.id
        )
    reg.status, reg.decided_by, reg.decision_note = after, actor.id, note.strip() or None
    record(
        session,
        actor,
        action,
        "registration",
        reg.id,
        object_org_id=reg.applicant_org_id,
        reason=note.strip(),
        detail={"from": before, "to": after},
    )
    return reg


def _grant(session: Session, reg: Registration) -> Grant:
    grant = session.get(Grant, reg.grant_id)
    assert grant is not None
    return grant


def object_to(session: Session, actor: Actor, registration_id: str, reason: str) -> Objection:
    """异议: any organisation may object while the notice window is open."""
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound(kind="登记 / registration", id=registration_id)
    enforce(actor, "registration.object", registration_resource(session, reg))
    now = utcnow()
    if reg.status != "in_notice" or reg.notice_ends_at is None or now >= reg.notice_ends_at:
        raise Conflict(
            what="公示期（已结束或未开始）/ the notice window (closed or not open)", value=reg.id
        )
    if len(reason.strip()) < 5:
        raise InvalidInput(problem="异议须写明理由 / an objection needs its grounds")
    objection = Objection(
        id=new_id("obj"),
        registration_id=reg.id,
        org_id=actor.org_id,
        filed_by=actor.id,
        reason=reason.strip(),
        status="open",
    )
    session.add(objection)
    session.flush()
    record(
        session,
        actor,
        "right.object",
        "registration",
        reg.id,
        object_org_id=reg.applicant_org_id,
        reason=reason.strip(),
        detail={"objection": objection.id},
    )
    return objection


def resolve(
    session: Session, actor: Actor, objection_id: str, *, upheld: bool, resolution: str
) -> Objection:
    """The registration authority decides an objection: upheld rejects the registration."""
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(kind="异议 / objection", id=objection_id)
    reg = session.get(Registration, objection.registration_id)
    assert reg is not None
    enforce(actor, "registration.decide", registration_resource(session, reg))
    if objection.status != "open":
        raise Conflict(what="异议已处理 / the objection was resolved", value=objection.id)
    if not resolution.strip():
        raise InvalidInput(problem="须说明处理理由 / a resolution needs its reasons")
    objection.status = "upheld" if upheld else "dismissed"
    objection.resolution, objection.resolved_by, objection.resolved_at = (
        resolution.strip(),
        actor.id,
        utcnow(),
    )
    if upheld and reg.status == "in_notice":
        reg.status = "rejected"
        _grant(session, reg).status = "rejected"
    record(
        session,
        actor,
        "right.resolve",
        "registration",
        reg.id,
        object_org_id=reg.applicant_org_id,
        reason=resolution.strip(),
        detail={"objection": objection.id, "upheld": upheld, "registration": reg.status},
    )
    return objection


def objections_of(session: Session, registration_id: str) -> list[Objection]:
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
