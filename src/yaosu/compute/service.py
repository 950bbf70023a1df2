"""Filed algorithms (算法备案) and each provider's trusted list.

Filing follows the 互联网信息服务算法推荐管理规定: the provider files within 10 working days of
the service starting (Art. 24), files a change within 10 working days of it and deregisters
within 20 working days of the service ending (Art. 25); the filing department (网信) files or
returns it within 30 working days of receiving it (Art. 26), issuing a filing number and
publishing the public text. Every deadline is counted in China's working days
(``workdays``); a filing made after its deadline is marked late, not refused (the department
decides what follows).

Filing numbers: ``网信算备`` + the platform's region code (``filing_region``, GB/T 2260) + the
year + a four-digit sequence of that region and year + ``号``, e.g. ``网信算备36010020260001号``. The sequence is the next after the highest issued, under the unique
constraint: two departments' decisions at the same instant cannot take one number.

A version's code lives in the content store, each file by its SHA-256 (suffix ``.alg``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, Rows, decide, enforce, visible
from yaosu.authorization.policy.redlines import DEFAULT_RED_LINES, SUBJECTS, USES, RedLine
from yaosu.catalog import service as catalog
from yaosu.compute import bundles, workdays
from yaosu.compute.models import Algorithm, AlgorithmFiling, AlgorithmVersion, TrustedAlgorithm
from yaosu.compute.schemas import AlgorithmChange, AlgorithmFile, Deregistration
from yaosu.compute.states import FilingState, advance_filing
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import InvalidInput, NotFound, NotNow
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings

SUFFIX = ".alg"
SUBMIT_DAYS = {"filing": 10, "change": 10, "deregistration": 20}  # Art. 24, 25
DECIDE_DAYS = 30  # Art. 26


def red_lines(settings: Settings) -> list[dict[str, Any]]:
    """The register in force: the settings' (each entry checked), or the built-in one."""
    if settings.red_lines is None:
        return [dict(line) for line in DEFAULT_RED_LINES]
    try:
        return [RedLine.model_validate(line).model_dump() for line in settings.red_lines]
    except ValueError as exc:
        raise InvalidInput(
            problem=_("the red_lines setting is malformed: {error}", error=str(exc))
        ) from exc


def resource(alg: Algorithm) -> Resource:
    return Resource(
        "algorithm",
        alg.id,
        alg.org_id,
        {"status": alg.status, "uses": list(alg.uses), "subjects": list(alg.subjects)},
    )


ROWS = Rows("algorithm", Algorithm.org_id, {"status": Algorithm.status})


def _vocabulary(uses: list[str], subjects: list[str]) -> None:
    unknown = sorted(set(uses) - set(USES)) + sorted(set(subjects) - set(SUBJECTS))
    if unknown:
        raise InvalidInput(
            problem=_(
                "unknown uses or subjects {unknown}; the platform's are {uses} and {subjects}",
                unknown=unknown,
                uses=sorted(USES),
                subjects=sorted(SUBJECTS),
            )
        )


def _store_files(ctx: Context, bundle: bundles.Bundle) -> None:
    for content in bundle.files.values():
        temp = ctx.store.temp_path(SUFFIX)
        temp.write_bytes(content)
        ctx.store.put(temp, suffix=SUFFIX)


def materialise(ctx: Context, files: list[dict[str, Any]], folder: Path) -> None:
    """A version's files written into ``folder`` (a job's read-only algorithm folder)."""
    for f in files:
        target = folder / f["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(ctx.store.path(f["sha256"], SUFFIX).read_bytes())


def _filing(
    session: Session,
    actor: Actor,
    alg: Algorithm,
    *,
    kind: str,
    event_on: date,
    version: int | None,
    summary: str = "",
) -> AlgorithmFiling:
    today = utcnow().date()
    submit_by = workdays.add(event_on, SUBMIT_DAYS[kind])
    due = workdays.add(today, DECIDE_DAYS)
    filing = AlgorithmFiling(
        id=new_id("fil"),
        algorithm_id=alg.id,
        kind=kind,
        version=version,
        status=FilingState.SUBMITTED,
        event_on=event_on,
        submit_by=submit_by.day,
        late=today > submit_by.day,
        due_on=due.day,
        provisional=submit_by.provisional or due.provisional,
        summary=summary,
        created_by=actor.id,
    )
    session.add(filing)
    return filing


def _event_day(day: date | None) -> date:
    today = utcnow().date()
    day = day or today
    if day > today:
        raise InvalidInput(problem=_("the day cannot be in the future: {day}", day=day.isoformat()))
    return day


def run_file(ctx: Context, actor: Actor, *, data: AlgorithmFile, bundle: bytes) -> Algorithm:
    """Files a new algorithm: its description, its public text and its first version's code."""
    _vocabulary(data.uses, data.subjects)
    parsed = bundles.parse(bundle)
    event_on = _event_day(data.started_on)
    if actor.org_id is None:
        raise InvalidInput(problem=_("an algorithm is filed by a member of its provider"))
    alg = Algorithm(
        id=new_id("alg"),
        org_id=actor.org_id,
        name=data.name.strip(),
        algorithm_type=data.algorithm_type,
        service_form=data.service_form.strip(),
        field=data.field.strip(),
        uses=sorted(set(data.uses)),
        subjects=sorted(set(data.subjects)),
        responsible=data.responsible.model_dump(),
        self_assessment=data.self_assessment.strip(),
        public_text=data.public_text.model_dump(),
        status=FilingState.SUBMITTED,
        current_version=1,
        sha256=parsed.sha256,
        created_by=actor.id,
    )
    with ctx.db.transaction() as session:
        enforce(actor, "algorithm.file", resource(alg), {"red_lines": red_lines(ctx.settings)})
        _store_files(ctx, parsed)
        session.add(alg)
        session.flush()
        session.add(_version(actor, alg, 1, parsed))
        filing = _filing(session, actor, alg, kind="filing", event_on=event_on, version=1)
        session.flush()
        record(
            session,
            actor,
            action="algorithm.file",
            object_type="algorithm",
            object_id=alg.id,
            object_org_id=alg.org_id,
            request=data.model_dump(mode="json"),
            detail={"filing": filing.id, "sha256": parsed.sha256, "due_on": str(filing.due_on)},
        )
        session.expunge(alg)
    return alg


def _version(actor: Actor, alg: Algorithm, number: int, parsed: bundles.Bundle) -> AlgorithmVersion:
    return AlgorithmVersion(
        id=new_id("algv"),
        algorithm_id=alg.id,
        number=number,
        sha256=parsed.sha256,
        entry=parsed.entry,
        runtime=parsed.runtime,
        outputs=list(parsed.outputs),
        parameters=parsed.parameters,
        files=parsed.file_list(),
        description=parsed.description,
        created_by=actor.id,
    )


def _locked(session: Session, algorithm_id: str) -> Algorithm:
    alg = session.scalars(
        locked(select(Algorithm).where(Algorithm.id == algorithm_id)).execution_options(
            populate_existing=True
        )
    ).first()
    if alg is None:
        raise NotFound(kind=_("Algorithm"), id=algorithm_id)
    return alg


def run_change(
    ctx: Context, actor: Actor, *, algorithm_id: str, data: AlgorithmChange, bundle: bytes
) -> AlgorithmFiling:
    """Files a change (Art. 25): a new version of the code, decided like a first filing; the
    algorithm stays filed under its number meanwhile, and jobs keep running the version they
    name (providers trust a version by its hash, never a name)."""
    parsed = bundles.parse(bundle)
    changed_on = _event_day(data.changed_on)
    with ctx.db.transaction() as session:
        alg = _locked(session, algorithm_id)
        enforce(actor, "algorithm.view", resource(alg))
        enforce(actor, "algorithm.change", resource(alg), {"red_lines": red_lines(ctx.settings)})
        if alg.status == FilingState.DEREGISTERED:
            raise NotNow(
                what=_("Algorithm"),
                id=alg.id,
                why=_("a deregistered algorithm cannot change; file it anew"),
            )
        raise_if_pending(session, alg)
        same = session.scalar(
            select(AlgorithmVersion.number).where(
                AlgorithmVersion.algorithm_id == alg.id, AlgorithmVersion.sha256 == parsed.sha256
            )
        )
        if same is not None:
            raise NotNow(
                what=_("Algorithm"),
                id=alg.id,
                why=_("this code is already version {number} of the algorithm", number=same),
            )
        _store_files(ctx, parsed)
        number = 1 + int(
            session.scalar(
                select(func.max(AlgorithmVersion.number)).where(
                    AlgorithmVersion.algorithm_id == alg.id
                )
            )
            or 0
        )
        session.add(_version(actor, alg, number, parsed))
        filing = _filing(
            session,
            actor,
            alg,
            kind="change",
            event_on=changed_on,
            version=number,
            summary=data.summary.strip(),
        )
        session.flush()
        record(
            session,
            actor,
            action="algorithm.change",
            object_type="algorithm",
            object_id=alg.id,
            object_org_id=alg.org_id,
            request=data.model_dump(mode="json"),
            detail={"filing": filing.id, "version": number, "sha256": parsed.sha256},
        )
        session.expunge(filing)
    return filing


def deregister(
    session: Session, actor: Actor, *, algorithm_id: str, data: Deregistration
) -> AlgorithmFiling:
    """Deregistration (注销, Art. 25): the service ended; no job runs it from now on (the
    filing stands until decided, but a job needs a filed algorithm with no deregistration
    pending)."""
    alg = _locked(session, algorithm_id)
    enforce(actor, "algorithm.view", resource(alg))
    enforce(actor, "algorithm.deregister", resource(alg))
    if alg.status != FilingState.FILED:
        raise NotNow(
            what=_("Algorithm"), id=alg.id, why=_("only a filed algorithm is deregistered")
        )
    raise_if_pending(session, alg)
    filing = _filing(
        session,
        actor,
        alg,
        kind="deregistration",
        event_on=_event_day(data.ended_on),
        version=None,
        summary=data.reason.strip(),
    )
    session.flush()
    record(
        session,
        actor,
        action="algorithm.deregister",
        object_type="algorithm",
        object_id=alg.id,
        object_org_id=alg.org_id,
        reason=data.reason.strip(),
        detail={"filing": filing.id},
    )
    return filing


def _next_number(session: Session, region: str, year: int) -> str:
    prefix = f"网信算备{region}{year}"
    issued = session.scalars(
        select(Algorithm.filing_number).where(Algorithm.filing_number.startswith(prefix))
    ).all()
    last = max((int(n[len(prefix) : -1]) for n in issued if n), default=0)
    return f"{prefix}{last + 1:04d}号"


def decide_filing(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    filing_id: str,
    approve: bool,
    reason: str,
) -> AlgorithmFiling:
    """The filing department's decision (Art. 26). Filing a first filing issues the number and
    publishes the public text; filing a change makes its version current; filing a
    deregistration ends the algorithm. Returning one needs the reason (不予备案 with 说明理由)."""
    filing = session.scalars(
        locked(select(AlgorithmFiling).where(AlgorithmFiling.id == filing_id))
    ).first()
    if filing is None:
        raise NotFound(kind=_("Filing"), id=filing_id)
    alg = _locked(session, filing.algorithm_id)
    enforce(actor, "algorithm.decide", resource(alg))
    if not approve and len(reason.strip()) < 2:
        raise InvalidInput(problem=_("say why the filing is returned (at least 2 characters)"))
    advance_filing(filing, FilingState.FILED if approve else FilingState.RETURNED)
    filing.decided_by, filing.decided_at, filing.reason = actor.id, utcnow(), reason.strip()
    if approve and filing.kind == "filing":
        alg.status = FilingState.FILED
        alg.filing_number = _next_number(session, settings.filing_region, utcnow().year)
        alg.filed_at = utcnow()
    elif approve and filing.kind == "change":
        version = session.scalars(
            select(AlgorithmVersion).where(
                AlgorithmVersion.algorithm_id == alg.id,
                AlgorithmVersion.number == filing.version,
            )
        ).one()
        alg.current_version, alg.sha256 = version.number, version.sha256
    elif approve and filing.kind == "deregistration":
        advance_filing(alg, FilingState.DEREGISTERED)
    elif not approve and filing.kind == "filing":
        alg.status = FilingState.RETURNED
    session.flush()
    record(
        session,
        actor,
        action="algorithm.decide",
        object_type="algorithm",
        object_id=alg.id,
        object_org_id=alg.org_id,
        reason=reason.strip(),
        detail={
            "filing": filing.id,
            "kind": filing.kind,
            "decision": filing.status,
            "filing_number": alg.filing_number,
            "late": filing.late,
            "decided_after_due": utcnow().date() > filing.due_on,
        },
    )
    return filing


def resubmit(
    session: Session, actor: Actor, *, settings: Settings, algorithm_id: str
) -> AlgorithmFiling:
    """A returned first filing, submitted again (材料补正) once its provider has completed it."""
    alg = _locked(session, algorithm_id)
    enforce(actor, "algorithm.view", resource(alg))
    enforce(actor, "algorithm.file", resource(alg), {"red_lines": red_lines(settings)})
    if alg.status != FilingState.RETURNED:
        raise NotNow(
            what=_("Algorithm"), id=alg.id, why=_("only a returned filing is submitted again")
        )
    raise_if_pending(session, alg)
    filing = _filing(session, actor, alg, kind="filing", event_on=utcnow().date(), version=1)
    session.flush()
    record(
        session,
        actor,
        action="algorithm.file",
        object_type="algorithm",
        object_id=alg.id,
        object_org_id=alg.org_id,
        detail={"filing": filing.id, "resubmitted": True, "due_on": str(filing.due_on)},
    )
    return filing


def pending_kind(session: Session, alg: Algorithm) -> str | None:
    """The kind of the algorithm's filing still being decided, if one is."""
    return session.scalar(
        select(AlgorithmFiling.kind).where(
            AlgorithmFiling.algorithm_id == alg.id,
            AlgorithmFiling.status == FilingState.SUBMITTED,
        )
    )


def raise_if_pending(session: Session, alg: Algorithm) -> None:
    if pending_kind(session, alg) is not None:
        raise NotNow(
            what=_("Algorithm"),
            id=alg.id,
            why=_("a filing of this algorithm is still being decided"),
        )


def get_algorithm(session: Session, actor: Actor, *, algorithm_id: str) -> Algorithm:
    alg = session.get(Algorithm, algorithm_id)
    if alg is None:
        raise NotFound(kind=_("Algorithm"), id=algorithm_id)
    enforce(actor, "algorithm.view", resource(alg))
    return alg


def sees_filing(actor: Actor, alg: Algorithm) -> bool:
    """Whether ``actor`` sees the whole filing (the self-assessment, the person responsible,
    the code), not only the public text: whom ``algorithm.view`` allows a filing not public."""
    private = Resource("algorithm", alg.id, alg.org_id, {"status": FilingState.SUBMITTED})
    return decide(actor, "algorithm.view", private).allowed


def list_algorithms(
    session: Session, actor: Actor, *, status: str | None = None
) -> list[Algorithm]:
    stmt = select(Algorithm).where(visible(actor, "algorithm.view", ROWS))
    if status:
        stmt = stmt.where(Algorithm.status == status)
    return list(session.scalars(stmt.order_by(Algorithm.created_at.desc())))


def public_register(session: Session) -> list[Algorithm]:
    """The public disclosure (公示): every filed or deregistered algorithm, newest first."""
    return list(
        session.scalars(
            select(Algorithm)
            .where(Algorithm.status.in_(("filed", "deregistered")))
            .order_by(Algorithm.filed_at.desc())
        )
    )


def versions_of(session: Session, *, algorithm_id: str) -> list[AlgorithmVersion]:
    return list(
        session.scalars(
            select(AlgorithmVersion)
            .where(AlgorithmVersion.algorithm_id == algorithm_id)
            .order_by(AlgorithmVersion.number)
        )
    )


def version_by_hash(session: Session, *, algorithm_id: str, sha256: str) -> AlgorithmVersion:
    version = session.scalars(
        select(AlgorithmVersion).where(
            AlgorithmVersion.algorithm_id == algorithm_id, AlgorithmVersion.sha256 == sha256
        )
    ).first()
    if version is None:
        raise NotFound(kind=_("Algorithm version"), id=sha256)
    return version


def filings_of(session: Session, *, algorithm_id: str) -> list[AlgorithmFiling]:
    return list(
        session.scalars(
            select(AlgorithmFiling)
            .where(AlgorithmFiling.algorithm_id == algorithm_id)
            .order_by(AlgorithmFiling.created_at)
        )
    )


def filings_due(session: Session, actor: Actor) -> list[AlgorithmFiling]:
    """Filings waiting for the department's decision, the nearest deadline first."""
    enforce(actor, "algorithm.decide", Resource("algorithm", "*", None, {"status": "submitted"}))
    return list(
        session.scalars(
            select(AlgorithmFiling)
            .where(AlgorithmFiling.status == FilingState.SUBMITTED)
            .order_by(AlgorithmFiling.due_on, AlgorithmFiling.created_at)
        )
    )


# --- the trusted list ------------------------------------------------------------------------


def _trust_resource(dataset_owner: str, dataset_id: str) -> Resource:
    return Resource("trusted", dataset_id, dataset_owner)


def trust(
    session: Session,
    actor: Actor,
    *,
    dataset_id: str,
    algorithm_id: str,
    version: int | None = None,
    note: str = "",
) -> TrustedAlgorithm:
    """The dataset's holder approves one version of a filed algorithm, by hash, for it."""
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "algorithm.trust", _trust_resource(ds.owner_org_id, ds.id))
    alg = get_algorithm(session, actor, algorithm_id=algorithm_id)
    if alg.status != FilingState.FILED:
        raise NotNow(
            what=_("Algorithm"), id=alg.id, why=_("only a filed algorithm is approved for data")
        )
    number = version or alg.current_version
    chosen = next(
        (v for v in versions_of(session, algorithm_id=alg.id) if v.number == number), None
    )
    if chosen is None:
        raise NotFound(kind=_("Algorithm version"), id=f"{alg.id} v{number}")
    existing = active_trust(session, dataset_id=ds.id, sha256=chosen.sha256)
    if existing is not None:
        return existing
    entry = TrustedAlgorithm(
        id=new_id("trust"),
        dataset_id=ds.id,
        org_id=ds.owner_org_id,
        algorithm_id=alg.id,
        sha256=chosen.sha256,
        note=note.strip(),
        approved_by=actor.id,
    )
    session.add(entry)
    session.flush()
    record(
        session,
        actor,
        action="algorithm.trust",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        detail={"algorithm": alg.id, "version": number, "sha256": chosen.sha256},
    )
    return entry


def distrust(session: Session, actor: Actor, *, trusted_id: str, reason: str) -> TrustedAlgorithm:
    entry = session.get(TrustedAlgorithm, trusted_id)
    if entry is None:
        raise NotFound(kind=_("Trusted algorithm"), id=trusted_id)
    catalog.get_dataset(session, actor, dataset_id=entry.dataset_id)
    enforce(actor, "algorithm.distrust", _trust_resource(entry.org_id, entry.dataset_id))
    if entry.revoked_at is not None:
        raise NotNow(
            what=_("Trusted algorithm"), id=entry.id, why=_("this approval was already withdrawn")
        )
    entry.revoked_by, entry.revoked_at = actor.id, utcnow()
    record(
        session,
        actor,
        action="algorithm.distrust",
        object_type="dataset",
        object_id=entry.dataset_id,
        object_org_id=entry.org_id,
        reason=reason.strip(),
        detail={"algorithm": entry.algorithm_id, "sha256": entry.sha256},
    )
    return entry


def active_trust(session: Session, *, dataset_id: str, sha256: str) -> TrustedAlgorithm | None:
    return session.scalars(
        select(TrustedAlgorithm).where(
            TrustedAlgorithm.dataset_id == dataset_id,
            TrustedAlgorithm.sha256 == sha256,
            TrustedAlgorithm.revoked_at.is_(None),
        )
    ).first()


def trust_revoked(session: Session, *, trusted_id: str) -> bool:
    entry = session.get(TrustedAlgorithm, trusted_id)
    return entry is None or entry.revoked_at is not None


def trusted_list(session: Session, actor: Actor, *, dataset_id: str) -> list[TrustedAlgorithm]:
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "algorithm.trusted", _trust_resource(ds.owner_org_id, ds.id))
    return list(
        session.scalars(
            select(TrustedAlgorithm)
            .where(TrustedAlgorithm.dataset_id == ds.id)
            .order_by(TrustedAlgorithm.approved_at.desc())
        )
    )
