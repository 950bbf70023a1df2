"""Compute-to-data jobs (数据可用不可见): a filed algorithm, by hash, runs on what a contract
grants, in the sandbox, and only checked outputs leave.

The life of a job (``states.JobState``): submitted under a contract that permits ``compute``
and names the algorithm; each provider approves the algorithm's hash for its dataset (its
trusted list, empty by default: an entry there approves at once); queued as a background
task (``compute.run``); the task materialises the inputs — exactly the contract's policy
view (granted columns, row filter, masks, the de-identification recipe), as read-only
Parquet — checks the algorithm's files against their filed hashes, runs the sandbox, checks
every output and the log (``checks``), and commits the result in one transaction: released
(stored, downloadable by the consumer), held for the provider's reviewer, or rejected
(nothing kept but the report). The working folder is removed whatever happens
(``cleaned_at``). One use of the contract is debited per dataset with that result, once the
algorithm has seen the data (a job that fails before it ran costs nothing). A job that waits
too long in a phase (approval, queue, review: the settings say how long) ends with the reason
(``expire``); the sandbox's own wall clock and limits bound the run.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, Text, cast, func, select
from sqlalchemy.orm import Session

from yaosu.access import service as access
from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.operations import Operation
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.authorization.policy.ethics import grounds
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.compute import bundles, checks, sandbox
from yaosu.compute import service as algorithms
from yaosu.compute.models import Algorithm, AlgorithmVersion, ComputeJob, EthicsReview
from yaosu.compute.schemas import JobCreate
from yaosu.compute.states import JOB_FINAL, FilingState, JobState, ReviewState, advance_job
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import InvalidInput, JobCancelled, NotFound, NotNow, YaosuError
from yaosu.kernel.i18n import Message, _
from yaosu.kernel.ids import new_id
from yaosu.kernel.tasks.queue import Run, handler
from yaosu.lineage import service as lineage
from yaosu.privacy import service as privacy
from yaosu.tasks import service as tasks

TASK = "compute.run"


def resource(job: ComputeJob) -> Resource:
    return Resource(
        "compute_job",
        job.id,
        job.consumer_org_id,
        {
            "created_by": job.created_by,
            "providers": list(job.provider_org_ids),
            "status": job.status,
        },
    )


def _provided_by(org_id: str) -> ColumnElement[bool]:
    # a JSON list of ids: the id, quoted as JSON writes it, occurs only as a whole element
    return cast(ComputeJob.provider_org_ids, Text).contains(json.dumps(org_id), autoescape=True)


ROWS = Rows("compute_job", ComputeJob.consumer_org_id, {"providers": _provided_by})


def _submit_resource(
    alg: Algorithm, consumer_org_id: str, actor: Actor, ethics_grounds: list[str]
) -> Resource:
    return Resource(
        "compute_job",
        "new",
        consumer_org_id,
        {
            "uses": list(alg.uses),
            "subjects": list(alg.subjects),
            "created_by": actor.id,
            "ethics_grounds": ethics_grounds,
        },
    )


def data_facts(session: Session, actor: Actor, dataset_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Per dataset, what its confirmed screen says: personal information, and the grade. A
    dataset without a confirmed screen counts as personal and core (fail safe: reviewed)."""
    facts = []
    for dataset_id in dataset_ids:
        ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
        version = ds.clean_version or ds.latest_version
        screen = privacy.confirmed_screen(session, dataset_id=dataset_id, version=version)
        facts.append(
            {
                "dataset": dataset_id,
                "personal": screen.personal if screen is not None else True,
                "grade": screen.grade if screen is not None else "core",
            }
        )
    return facts


def requirement(
    session: Session, actor: Actor, alg: Algorithm, dataset_ids: Iterable[str]
) -> list[str]:
    """Why ``alg`` on these datasets needs an ethics review (``policy.ethics.GROUNDS``)."""
    return grounds(
        algorithm_type=alg.algorithm_type,
        uses=alg.uses,
        subjects=alg.subjects,
        data=data_facts(session, actor, dataset_ids),
    )


def covering(
    session: Session,
    *,
    algorithm_id: str,
    sha256: str,
    datasets: Iterable[str],
    today: date | None = None,
) -> EthicsReview | None:
    """The approval under which this version may run on these datasets today: approved, not
    past its follow-up, naming the version's hash and every dataset."""
    today, wanted = today or utcnow().date(), set(datasets)
    approvals = session.scalars(
        select(EthicsReview)
        .where(
            EthicsReview.algorithm_id == algorithm_id,
            EthicsReview.status == ReviewState.APPROVED,
            EthicsReview.valid_until >= today,
        )
        .order_by(EthicsReview.decided_at.desc())
    ).all()
    return next((r for r in approvals if sha256 in r.versions and wanted <= set(r.datasets)), None)


def _ethics(
    session: Session, actor: Actor, alg: Algorithm, sha256: str, datasets: list[str]
) -> tuple[list[str], EthicsReview | None]:
    """Why this job needs an ethics review, and the approval that covers it (if any)."""
    needed = requirement(session, actor, alg, datasets)
    approval = (
        covering(session, algorithm_id=alg.id, sha256=sha256, datasets=datasets) if needed else None
    )
    return needed, approval


def submission(
    session: Session,
    actor: Actor,
    *,
    settings: Any,
    contract: Any,
    alg: Algorithm,
    sha256: str,
    datasets: list[str],
) -> tuple[Resource, dict[str, Any], EthicsReview | None]:
    """What ``compute.submit`` is decided on for this algorithm version on these datasets of
    ``contract``: the resource, its context (the red lines, the purpose, the ethics approval
    covering it) and that approval. The job page asks the same question before it offers the
    form."""
    needed, approval = _ethics(session, actor, alg, sha256, datasets)
    context = {
        "red_lines": algorithms.red_lines(settings),
        "purpose": contract.purpose,
        "ethics": approval,
    }
    return _submit_resource(alg, contract.consumer_org_id, actor, needed), context, approval


def names_algorithm(named: str | None, alg: Algorithm) -> bool:
    """Whether a contract's ``algorithm`` term names this algorithm: by its id, its filing
    number, or its name exactly (what the request form asked the consumer to write)."""
    if not named:
        return False
    return named.strip() in {alg.id, alg.filing_number or "", alg.name}


def run_submit(ctx: Context, actor: Actor, *, data: JobCreate) -> ComputeJob:
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(session, actor, contract_id=data.contract_id)
        alg = algorithms.get_algorithm(session, actor, algorithm_id=data.algorithm_id)
        datasets = list(data.datasets or contract.datasets)
        unknown = [d for d in datasets if d not in contract.datasets]
        if unknown or not datasets or len(set(datasets)) != len(datasets):
            raise InvalidInput(
                problem=_(
                    "name datasets of contract {contract} once each: {datasets}",
                    contract=contract.id,
                    datasets=unknown or datasets,
                )
            )
        version = algorithms.version_by_hash(
            session, algorithm_id=alg.id, sha256=data.sha256 or alg.sha256
        )
        job_resource, job_context, approval = submission(
            session,
            actor,
            settings=ctx.settings,
            contract=contract,
            alg=alg,
            sha256=version.sha256,
            datasets=datasets,
        )
        enforce(actor, "compute.submit", job_resource, job_context)
        needed = job_resource.attrs["ethics_grounds"]
        if alg.status != FilingState.FILED:
            raise NotNow(
                what=_("Algorithm"),
                id=alg.filing_number or alg.id,
                why=_("only a filed algorithm runs on data (this one is not filed)"),
            )
        if algorithms.pending_kind(session, alg) == "deregistration":
            raise NotNow(
                what=_("Algorithm"),
                id=alg.filing_number or alg.id,
                why=_("the algorithm's service is being deregistered"),
            )
        if not names_algorithm(contract.algorithm, alg):
            raise InvalidInput(
                problem=_(
                    "contract {contract} names the algorithm {named}, not {algorithm}",
                    contract=contract.id,
                    named=contract.algorithm or "—",
                    algorithm=alg.filing_number or alg.id,
                )
            )
        params = bundles.check_params(version.parameters, data.params)
        approvals, providers = [], []
        for dataset_id in datasets:
            authorization.use(
                session,
                actor,
                contract_id=contract.id,
                operation=Operation.compute,
                dataset_id=dataset_id,
                fields=list(contract.datasets[dataset_id]),
                dry_run=True,
            )
            ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
            entry = algorithms.active_trust(session, dataset_id=dataset_id, sha256=version.sha256)
            approvals.append(
                {
                    "dataset": dataset_id,
                    "org": ds.owner_org_id,
                    "status": "approved" if entry else "waiting",
                    "by": entry.approved_by if entry else None,
                    "trusted": entry.id if entry else None,
                    "at": entry.approved_at.isoformat() if entry else None,
                }
            )
            providers.append(ds.owner_org_id)
        job = ComputeJob(
            id=new_id("cjob"),
            contract_id=contract.id,
            consumer_org_id=contract.consumer_org_id,
            provider_org_ids=sorted(set(providers)),
            algorithm_id=alg.id,
            version=version.number,
            sha256=version.sha256,
            datasets=datasets,
            params=params,
            status=JobState.AWAITING_APPROVAL,
            approvals=approvals,
            created_by=actor.id,
            ethics_review_id=approval.id if approval else None,
            epsilon=data.epsilon,
        )
        session.add(job)
        session.flush()
        record(
            session,
            actor,
            action="compute.submit",
            object_type="compute_job",
            object_id=job.id,
            object_org_id=job.consumer_org_id,
            request=data.model_dump(mode="json"),
            detail={
                "contract": contract.id,
                "algorithm": alg.id,
                "filing_number": alg.filing_number,
                "sha256": version.sha256,
                "waiting": [a["dataset"] for a in approvals if a["status"] == "waiting"],
                "ethics": {"grounds": needed, "approval": job.ethics_review_id},
            },
        )
        if all(a["status"] == "approved" for a in approvals):
            _queue(session, actor, job)
        session.expunge(job)
    return job


def _queue(session: Session, actor: Actor, job: ComputeJob) -> None:
    """Queues the job's task, to run as its submitter (the last approval may be a provider's:
    the contract is still used by its consumer)."""
    advance_job(job, JobState.QUEUED)
    job.phase_started_at = utcnow()
    submitter = (
        actor
        if actor.id == job.created_by
        else accounts.active_actor(session, user_id=job.created_by)
    )
    if submitter is None:
        raise NotNow(
            what=_("Compute job"), id=job.id, why=_("the job's submitter is no longer active")
        )
    task = tasks.enqueue(
        session,
        submitter,
        kind=TASK,
        params={"job_id": job.id},
        object_type="compute_job",
        object_id=job.id,
        object_org_id=job.consumer_org_id,
    )
    job.task_id = task.id


# --- under an ethics approval --------------------------------------------------------------

WAITING = (JobState.AWAITING_APPROVAL, JobState.QUEUED)


def _suspend(
    session: Session, actor: Actor, job: ComputeJob, reason: Message, *, own_task: bool = False
) -> None:
    """``own_task``: called from the job's running task, which ends by itself."""
    if job.task_id and job.status == JobState.QUEUED and not own_task:
        tasks.cancel(session, actor, task_id=job.task_id)
    job.task_id = None
    advance_job(job, JobState.SUSPENDED)
    job.status_reason = both(reason)
    job.phase_started_at = utcnow()
    record(
        session,
        actor,
        action="compute.suspend",
        object_type="compute_job",
        object_id=job.id,
        object_org_id=job.consumer_org_id,
        reason=reason,
        detail={"ethics_review": job.ethics_review_id},
    )


def _under(session: Session, review_id: str, states: Iterable[JobState]) -> list[ComputeJob]:
    return list(
        session.scalars(
            locked(
                select(ComputeJob).where(
                    ComputeJob.ethics_review_id == review_id,
                    ComputeJob.status.in_(list(states)),
                )
            )
        )
    )


def suspend_under(session: Session, actor: Actor, *, review_id: str) -> list[str]:
    """Suspends the jobs waiting to run under an ethics approval that lapsed (a running job
    finishes: its run is bounded by the sandbox's wall clock)."""
    jobs = _under(session, review_id, WAITING)
    for job in jobs:
        _suspend(session, actor, job, _("its ethics approval lapsed: no follow-up review in time"))
    return [job.id for job in jobs]


def move_under(session: Session, actor: Actor, *, old: str, new: str) -> list[str]:
    """The jobs under approval ``old`` now run under ``new`` (its follow-up or a reviewed
    change); the suspended ones resume: waiting again for approvals, or queued."""
    moved = _under(session, old, [*WAITING, JobState.SUSPENDED])
    for job in moved:
        job.ethics_review_id = new
        if job.status != JobState.SUSPENDED:
            continue
        job.status_reason = None
        if all(a["status"] == "approved" for a in job.approvals):
            _queue(session, actor, job)
        else:
            advance_job(job, JobState.AWAITING_APPROVAL)
            job.phase_started_at = utcnow()
        record(
            session,
            actor,
            action="compute.resume",
            object_type="compute_job",
            object_id=job.id,
            object_org_id=job.consumer_org_id,
            detail={"ethics_review": new, "status": job.status},
        )
    return [job.id for job in moved]


def end_under(session: Session, actor: Actor, *, review_id: str, reason: Message) -> list[str]:
    """Fails the jobs waiting or suspended under an approval that was revoked."""
    ended = _under(session, review_id, [*WAITING, JobState.SUSPENDED])
    for job in ended:
        if job.task_id and job.status == JobState.QUEUED:
            tasks.cancel(session, actor, task_id=job.task_id)
        _end(session, job, JobState.FAILED, reason)
        record(
            session,
            actor,
            action="compute.fail",
            object_type="compute_job",
            object_id=job.id,
            object_org_id=job.consumer_org_id,
            reason=reason,
            detail={"ethics_review": review_id},
        )
    return [job.id for job in ended]


def _locked_job(session: Session, job_id: str) -> ComputeJob:
    job = session.scalars(
        locked(select(ComputeJob).where(ComputeJob.id == job_id)).execution_options(
            populate_existing=True
        )
    ).first()
    if job is None:
        raise NotFound(kind=_("Compute job"), id=job_id)
    return job


def get_job(session: Session, actor: Actor, *, job_id: str) -> ComputeJob:
    job = session.get(ComputeJob, job_id)
    if job is None:
        raise NotFound(kind=_("Compute job"), id=job_id)
    enforce(actor, "compute.view", resource(job))
    return job


def list_jobs(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    statuses: Collection[str] = (),
    contract_id: str | None = None,
) -> list[ComputeJob]:
    """Jobs the actor may see, newest first: in one state, or in any of ``statuses``."""
    stmt = select(ComputeJob).where(visible(actor, "compute.view", ROWS))
    if status:
        stmt = stmt.where(ComputeJob.status == status)
    if statuses:
        stmt = stmt.where(ComputeJob.status.in_(list(statuses)))
    if contract_id:
        stmt = stmt.where(ComputeJob.contract_id == contract_id)
    return list(session.scalars(stmt.order_by(ComputeJob.created_at.desc()).limit(500)))


def decide_approval(
    session: Session, actor: Actor, *, job_id: str, approve: bool, reason: str, trust: bool
) -> ComputeJob:
    """A provider approves (or refuses) the job's algorithm for its datasets in the job; with
    ``trust`` the hash joins each dataset's trusted list, so the next job of that version on it
    needs no approval. The last approval queues the job; a refusal ends it."""
    job = _locked_job(session, job_id)
    enforce(actor, "compute.view", resource(job))
    enforce(actor, "compute.approve", resource(job))
    if job.status != JobState.AWAITING_APPROVAL:
        raise NotNow(what=_("Compute job"), id=job.id, why=_("the job is not waiting for approval"))
    mine = [a for a in job.approvals if a["org"] == actor.org_id and a["status"] == "waiting"]
    if not mine:
        raise NotNow(
            what=_("Compute job"),
            id=job.id,
            why=_("nothing of this job waits for your organisation's approval"),
        )
    if not approve and len(reason.strip()) < 2:
        raise InvalidInput(problem=_("say why the algorithm is refused (at least 2 characters)"))
    approvals = []
    for a in job.approvals:
        if a in mine:
            a = dict(a, status="approved" if approve else "refused", by=actor.id)
            a["at"] = utcnow().isoformat()
            if approve and trust:
                a["trusted"] = algorithms.trust(
                    session,
                    actor,
                    dataset_id=a["dataset"],
                    algorithm_id=job.algorithm_id,
                    version=job.version,
                    note=reason,
                ).id
        approvals.append(a)
    job.approvals = approvals
    record(
        session,
        actor,
        action="compute.approve",
        object_type="compute_job",
        object_id=job.id,
        object_org_id=job.consumer_org_id,
        reason=reason.strip(),
        detail={
            "decision": "approve" if approve else "refuse",  # a decision, not a refused access
            "datasets": [a["dataset"] for a in mine],
            "trust": trust and approve,
        },
    )
    if not approve:
        _end(
            session,
            job,
            JobState.REJECTED,
            _("refused by the data's provider: {reason}", reason=reason.strip()),
        )
    elif all(a["status"] == "approved" for a in approvals):
        _queue(session, actor, job)
    return job


def both(reason: Message | str) -> dict[str, str]:
    """A reason kept in both languages (``localise`` reads it back in the reader's)."""
    if isinstance(reason, Message):
        return {"zh": reason.render("zh-CN"), "en": reason.render("en")}
    return {"zh": reason, "en": reason}


def _end(session: Session, job: ComputeJob, target: JobState, reason: Message | str) -> None:
    advance_job(job, target)
    job.status_reason = both(reason)
    job.finished_at = utcnow()


def cancel(session: Session, actor: Actor, *, job_id: str) -> ComputeJob:
    job = _locked_job(session, job_id)
    enforce(actor, "compute.view", resource(job))
    enforce(actor, "compute.cancel", resource(job))
    if job.status not in (
        JobState.AWAITING_APPROVAL,
        JobState.QUEUED,
        JobState.RUNNING,
        JobState.SUSPENDED,
    ):
        raise NotNow(
            what=_("Compute job"),
            id=job.id,
            why=_("a job is cancelled before its outputs are checked"),
        )
    if job.task_id:
        tasks.cancel(session, actor, task_id=job.task_id)
    _end(session, job, JobState.CANCELLED, _("cancelled by {who}", who=actor.username))
    record(
        session,
        actor,
        action="compute.cancel",
        object_type="compute_job",
        object_id=job.id,
        object_org_id=job.consumer_org_id,
    )
    return job


def review(
    session: Session, actor: Actor, *, job_id: str, release: bool, reason: str
) -> ComputeJob:
    """The provider's reviewer decides held outputs (what the disclosure rules could not pass
    alone): released to the consumer, or rejected; the reason is kept with the report."""
    job = _locked_job(session, job_id)
    enforce(actor, "compute.view", resource(job))
    enforce(actor, "compute.review", resource(job))
    if job.status != JobState.HELD:
        raise NotNow(what=_("Compute job"), id=job.id, why=_("only held outputs are reviewed"))
    job.reviewed_by, job.reviewed_at = actor.id, utcnow()
    job.check = dict(job.check, review={"by": actor.id, "release": release, "reason": reason})
    if release:
        _end(session, job, JobState.RELEASED, _("released by the provider's reviewer"))
    else:
        _end(
            session,
            job,
            JobState.REJECTED,
            _("rejected by the provider's reviewer: {reason}", reason=reason),
        )
        job.outputs = [dict(o, withheld=True) for o in job.outputs]
    record(
        session,
        actor,
        action="compute.review",
        object_type="compute_job",
        object_id=job.id,
        object_org_id=job.consumer_org_id,
        reason=reason,
        detail={
            "decision": "release" if release else "reject",
            "outputs": [o["name"] for o in job.outputs],
        },
    )
    return job


def run_download(
    ctx: Context, actor: Actor, *, job_id: str, name: str
) -> tuple[Path, dict[str, Any]]:
    """A released output's file, for the consumer; every download audited."""
    with ctx.db.transaction() as session:
        job = get_job(session, actor, job_id=job_id)
        enforce(actor, "compute.download", resource(job))
        if job.status != JobState.RELEASED:
            raise NotNow(
                what=_("Compute job"),
                id=job.id,
                why=_("only a released job's outputs are downloaded"),
            )
        output = next((o for o in job.outputs if o["name"] == name), None)
        if output is None:
            raise NotFound(kind=_("Output"), id=name)
        record(
            session,
            actor,
            action="compute.download",
            object_type="compute_job",
            object_id=job.id,
            object_org_id=job.consumer_org_id,
            detail={"output": name, "sha256": output["sha256"]},
        )
    return ctx.store.path(output["sha256"], output["suffix"]), output


def expire(session: Session, actor: Actor, *, now: datetime | None = None) -> list[str]:
    """Ends the jobs that waited too long in a phase, each with its reason: no approval within
    ``compute_approval_days``, not started within ``compute_queue_hours``, held outputs not
    reviewed within ``compute_review_days`` (rejected: nothing released by default)."""
    from yaosu.kernel.settings import get_settings

    settings, now = get_settings(), now or utcnow()
    limits = {
        JobState.AWAITING_APPROVAL: (
            timedelta(days=settings.compute_approval_days),
            JobState.FAILED,
            _("no approval within {n} days", n=settings.compute_approval_days),
        ),
        JobState.QUEUED: (
            timedelta(hours=settings.compute_queue_hours),
            JobState.FAILED,
            _("not started within {n} hours", n=settings.compute_queue_hours),
        ),
        JobState.SUSPENDED: (
            timedelta(days=settings.compute_approval_days),
            JobState.FAILED,
            _("no follow-up ethics review within {n} days", n=settings.compute_approval_days),
        ),
        JobState.HELD: (
            timedelta(days=settings.compute_review_days),
            JobState.REJECTED,
            _("not reviewed within {n} days: nothing released", n=settings.compute_review_days),
        ),
    }
    ended = _silent(session, actor, now=now, settings=settings)
    for state, (limit, target, reason) in limits.items():
        stale = session.scalars(
            locked(
                select(ComputeJob).where(
                    ComputeJob.status == state, ComputeJob.phase_started_at < now - limit
                )
            )
        ).all()
        for job in stale:
            if job.task_id and state == JobState.QUEUED:
                tasks.cancel(session, actor, task_id=job.task_id)
            _end(session, job, target, reason)
            record(
                session,
                actor,
                action="compute.fail" if target == JobState.FAILED else "compute.reject",
                object_type="compute_job",
                object_id=job.id,
                object_org_id=job.consumer_org_id,
                reason=reason,
                detail={"phase": str(state)},
            )
            ended.append(job.id)
    return ended


SILENCE_MARGIN = timedelta(minutes=10)  # beyond the wall clock, before a job counts as stuck


def _silent(session: Session, actor: Actor, *, now: datetime, settings: Any) -> list[str]:
    """Running or checking jobs that have not reported for longer than a run may last: their
    worker is gone and its task will not run them again. They fail with that reason."""
    limit = timedelta(seconds=settings.compute_wall_seconds) + SILENCE_MARGIN
    stuck = session.scalars(
        locked(
            select(ComputeJob).where(
                ComputeJob.status.in_([JobState.RUNNING, JobState.CHECKING]),
                func.coalesce(ComputeJob.heartbeat_at, ComputeJob.phase_started_at) < now - limit,
            )
        )
    ).all()
    reason = _("it stopped reporting for longer than a run may last: its worker is gone")
    for job in stuck:
        phase = job.status
        _end(session, job, JobState.FAILED, reason)
        record(
            session,
            actor,
            action="compute.fail",
            object_type="compute_job",
            object_id=job.id,
            object_org_id=job.consumer_org_id,
            reason=reason,
            detail={"phase": phase},
        )
    return [job.id for job in stuck]


# --- the run ---------------------------------------------------------------------------------


def limits_of(ctx: Context) -> sandbox.Limits:
    s = ctx.settings
    return sandbox.Limits(
        memory_bytes=s.compute_memory_mb * 2**20,
        cpu_seconds=s.compute_cpu_seconds,
        wall_seconds=float(s.compute_wall_seconds),
        processes=s.compute_processes,
        output_bytes=s.compute_output_mb * 2**20,
    )


@handler(TASK)
def _run_task(ctx: Context, actor: Actor, params: dict[str, Any], run: Run) -> dict[str, Any]:
    job_id = str(params["job_id"])
    try:
        return _run(ctx, actor, job_id, run)
    except JobCancelled:
        raise  # the job was ended by ``cancel``
    except YaosuError as exc:
        _fail(ctx, actor, job_id, {"zh": exc.message("zh-CN"), "en": exc.message("en")})
        raise
    except Exception:
        _fail(ctx, actor, job_id, both(_("an internal error stopped the job")))
        raise


def _fail(ctx: Context, actor: Actor, job_id: str, reason: dict[str, str]) -> None:
    with ctx.db.transaction() as session:
        job = _locked_job(session, job_id)
        if job.status in JOB_FINAL:
            return
        _end(session, job, JobState.FAILED, reason["zh"])
        job.status_reason = reason
        job.cleaned_at = utcnow()
        record(
            session,
            actor,
            action="compute.fail",
            object_type="compute_job",
            object_id=job.id,
            object_org_id=job.consumer_org_id,
            allowed=False,
            reason=reason["en"],
        )


def _start(
    ctx: Context, actor: Actor, job_id: str
) -> tuple[ComputeJob, AlgorithmVersion, Algorithm] | None:
    """Moves the job to running after checking, again, what may have changed since it was
    queued: the filing, the approvals (a provider may have revoked its trust), the ethics
    approval (None: the job is suspended until a follow-up review) and the contract."""
    with ctx.db.transaction() as session:
        job = _locked_job(session, job_id)
        if job.status in JOB_FINAL:
            raise JobCancelled(id=job.id)
        if job.status in (JobState.RUNNING, JobState.CHECKING):  # its worker died: again
            advance_job(job, JobState.QUEUED)
        alg = algorithms.get_algorithm(session, actor, algorithm_id=job.algorithm_id)
        if alg.status != FilingState.FILED:
            raise NotNow(
                what=_("Compute job"), id=job.id, why=_("the algorithm is no longer filed")
            )
        for a in job.approvals:
            if a.get("trusted") and algorithms.trust_revoked(session, trusted_id=a["trusted"]):
                raise NotNow(
                    what=_("Compute job"),
                    id=job.id,
                    why=_("the provider withdrew its approval for {dataset}", dataset=a["dataset"]),
                )
        version = algorithms.version_by_hash(session, algorithm_id=alg.id, sha256=job.sha256)
        needed, approval = _ethics(session, actor, alg, job.sha256, list(job.datasets))
        if needed and approval is None:
            # lapsed, or revoked, since the job was queued: it waits for a follow-up review
            _suspend(
                session, actor, job, _("its ethics approval is no longer current"), own_task=True
            )
            return None
        job.ethics_review_id = approval.id if approval else None
        advance_job(job, JobState.RUNNING)
        job.phase_started_at = job.heartbeat_at = utcnow()
        job.stage = "inputs"
        session.flush()
        session.expunge_all()
    return job, version, alg


class _Progress:
    """Progress told to the task (which stops a cancelled job at its next report) and, at most
    once a second, to the job's own row: the page shows the job's stage, and its heartbeat
    tells ``expire`` the job is alive."""

    def __init__(self, ctx: Context, job_id: str, run: Run) -> None:
        self.ctx, self.job_id, self.run = ctx, job_id, run
        self.fraction, self.stage = 0.0, ""
        self._last = 0.0

    def beat(self, elapsed: float) -> None:
        """The sandbox's heartbeat: the job is alive, at the stage it last told."""
        self(self.fraction, self.stage)

    def __call__(self, fraction: float, stage: str) -> None:
        self.fraction, self.stage = fraction, stage
        self.run.progress(fraction, stage)
        now = time.monotonic()
        if now - self._last < 1.0:
            return
        self._last = now
        with self.ctx.db.transaction() as session:
            job = session.get(ComputeJob, self.job_id)
            if job is not None and job.status not in JOB_FINAL:
                job.progress, job.stage = round(fraction, 3), stage[:200]
                job.heartbeat_at = utcnow()


def _run(ctx: Context, actor: Actor, job_id: str, run: Run) -> dict[str, Any]:
    started = _start(ctx, actor, job_id)
    if started is None:
        return {"job": job_id, "status": JobState.SUSPENDED.value}
    job, version, alg = started
    runtime = sandbox.RUNTIMES[version.runtime]()
    runner = sandbox.RUNNERS[ctx.settings.compute_runner]()
    why_not = runner.available()
    if why_not:
        raise NotNow(
            what=_("Compute job"),
            id=job.id,
            why=_("the sandbox cannot run here: {why}", why=why_not),
        )
    from yaosu.compute import private  # here: the module's imports are others' work too

    # Under a privacy budget the job's ε must fit before the algorithm sees any data.
    budgeted = private.budget_left(ctx, actor, contract_id=job.contract_id) is not None
    epsilon = private.job_epsilon(job) if budgeted else 0.0
    if budgeted:
        private.check_budget(
            ctx, actor, contract_id=job.contract_id, dataset_id=job.datasets[0], epsilon=epsilon
        )
    work = Path(tempfile.mkdtemp(prefix=f"{job.id}-", dir=ctx.store.tmp))
    tell = _Progress(ctx, job.id, run)
    try:
        tell(0.05, "inputs")
        folders = {name: work / name for name in ("algorithm", "inputs", "output")}
        for folder in folders.values():
            folder.mkdir()
        algorithms.materialise(ctx, version.files, folders["algorithm"])
        tampered = bundles.verify(version.files, folders["algorithm"])
        if tampered is not None:
            raise NotNow(
                what=_("Compute job"),
                id=job.id,
                why=_(
                    "{path} no longer matches its filed hash: the algorithm is not run",
                    path=tampered,
                ),
            )
        granted = {}
        for dataset_id in job.datasets:
            g = access.run_granted(
                ctx,
                actor,
                contract_id=job.contract_id,
                dataset_id=dataset_id,
                operation=Operation.compute,
                max_rows=ctx.settings.compute_max_input_rows,
            )
            pq.write_table(g.table, folders["inputs"] / f"{dataset_id}.parquet", compression="zstd")
            granted[dataset_id] = g
        # The index of the inputs (what the checks look for) is built while the algorithm
        # runs: it needs only the inputs, and it is most of a large job's own time.
        indexing = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{job.id}-index")
        pending = indexing.submit(checks.InputIndex.build, {d: g.table for d, g in granted.items()})
        indexing.shutdown(wait=False)
        tell(0.15, "running")

        def progress(fraction: float, stage: str) -> None:
            tell(0.15 + 0.6 * max(0.0, min(1.0, fraction)), stage[:100] or "running")

        outcome = runner.run(
            sandbox.Spec(
                runtime=runtime,
                algorithm_dir=folders["algorithm"],
                inputs_dir=folders["inputs"],
                output_dir=folders["output"],
                entry=version.entry,
                params=job.params,
                limits=limits_of(ctx),
            ),
            heartbeat=tell.beat,
            progress=progress,
        )
        tell(0.8, "checking")
        index = pending.result()
        _phase(ctx, job.id, JobState.CHECKING, outcome)
        log, log_findings = checks.check_log(outcome.log, index=index)
        report = None
        if outcome.status == "ok":
            allowed = _allowed_kinds(ctx, actor, job)
            rules = checks.Rules(kinds=frozenset(version.outputs) & allowed)
            report = checks.check_outputs(folders["output"], index=index, rules=rules, log=log)
        released = None
        if report is not None and budgeted:
            released = private.release(
                ctx,
                actor,
                contract_id=job.contract_id,
                folder=folders["output"],
                into=work / "private",
                report=report,
                granted=granted,
                epsilon=epsilon,
            )
            report = released.report
        stored = (
            _store(ctx, folders["output"], report, replaced=released.files if released else {})
            if report and report.verdict != "fail"
            else []
        )
        return _finish(
            ctx,
            actor,
            job.id,
            alg,
            granted,
            outcome,
            report,
            log,
            log_findings,
            stored,
            runtime,
            released=released,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _allowed_kinds(ctx: Context, actor: Actor, job: ComputeJob) -> frozenset[str]:
    """What may leave under the contract: every kind but a trained model, unless the contract
    lets a model leave (its ``models`` term; the model is still held for a person)."""
    kinds = {"table", "statistics", "metrics", "report"}
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(session, actor, contract_id=job.contract_id)
        if contract.models:
            kinds.add("model")
    return frozenset(kinds)


def _phase(ctx: Context, job_id: str, target: JobState, outcome: sandbox.Outcome) -> None:
    with ctx.db.transaction() as session:
        job = _locked_job(session, job_id)
        if job.status in JOB_FINAL:
            raise JobCancelled(id=job_id)
        advance_job(job, target)
        job.phase_started_at = utcnow()
        job.outcome = _outcome_doc(outcome)


def _outcome_doc(outcome: sandbox.Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "reason": outcome.reason,
        "seconds": round(outcome.seconds, 3),
        "output_bytes": outcome.output_bytes,
        "log_dropped_bytes": outcome.log_dropped_bytes,
    }


SUFFIXES = {
    "table": ".parquet",
    "statistics": ".parquet",
    "metrics": ".json",
    "report": ".md",
    "model": ".bin",
}


# The evidence a statistical table carries for the disclosure rules: its largest two
# contributions are one record's values, and never leave with it (the count ``_n`` does).
EVIDENCE = ("_max1", "_max2", "_total")


def _store(
    ctx: Context, folder: Path, report: checks.Report, *, replaced: Mapping[str, Path]
) -> list[dict[str, Any]]:
    """The checked outputs, moved into the content store (each by its hash); a statistical
    table without its evidence columns, or, when ``replaced`` names its file, the platform's
    differentially private table in its place."""
    stored = []
    for entry in report.outputs:
        suffix = SUFFIXES[entry["kind"]]
        temp = ctx.store.temp_path(suffix)
        if entry["kind"] == "statistics":
            table = pq.read_table(replaced.get(entry["file"], folder / entry["file"]))
            kept = [c for c in table.column_names if c not in EVIDENCE]
            pq.write_table(table.select(kept), temp, compression="zstd")
        else:
            shutil.copyfile(folder / entry["file"], temp)
        size = temp.stat().st_size
        digest = ctx.store.put(temp, suffix=suffix)
        stored.append(
            {
                "name": entry["name"],
                "kind": entry["kind"],
                "sha256": digest,
                "bytes": size,
                "rows": entry.get("rows"),
                "suffix": suffix,
            }
        )
    return stored


def _finish(
    ctx: Context,
    actor: Actor,
    job_id: str,
    alg: Algorithm,
    granted: Mapping[str, Any],
    outcome: sandbox.Outcome,
    report: checks.Report | None,
    log: str,
    log_findings: list[checks.Finding],
    stored: list[dict[str, Any]],
    runtime: sandbox.Runtime,
    *,
    released: Any = None,
) -> dict[str, Any]:
    """Commits the result. ``released`` (a ``private.Release``): what the platform released
    under differential privacy; its ε is debited here, once, with the release."""
    from yaosu.kernel.errors import Forbidden  # here: the module's imports are others' work too

    with ctx.db.transaction() as session:
        job = _locked_job(session, job_id)
        if job.status in JOB_FINAL:
            raise JobCancelled(id=job_id)
        epsilon = float(released.epsilon) if released is not None and stored else 0.0
        short: Message | None = None
        if epsilon:  # the budget may have been spent while the job ran: then nothing leaves
            try:
                authorization.use(
                    session,
                    actor,
                    contract_id=job.contract_id,
                    operation=Operation.compute,
                    dataset_id=next(iter(granted)),
                    epsilon=epsilon,
                    dry_run=True,
                )
            except Forbidden as exc:
                short = _(
                    "the privacy budget cannot pay for the release, so nothing was released: {why}",
                    why=exc.detail.get("reason", ""),
                )
                epsilon, stored = 0.0, []
        for i, (dataset_id, g) in enumerate(granted.items()):  # seen the data: one use each
            authorization.use(
                session,
                actor,
                contract_id=job.contract_id,
                operation=Operation.compute,
                dataset_id=dataset_id,
                fields=list(g.fields),
                epsilon=epsilon if i == 0 else 0.0,  # the job's ε, debited once
            )
        job.runtime = {
            "name": runtime.name,
            "fingerprint": runtime.fingerprint(),
            "packages": runtime.packages,
        }
        job.inputs = [
            {
                "dataset": d,
                "version": g.version,
                "source_sha256": g.source_sha256,
                "rows": g.table.num_rows,
                "columns": g.table.column_names,
                "k": g.k,
            }
            for d, g in granted.items()
        ]
        job.log = log
        job.check = (report.as_json() if report else {}) | {
            "log": [f.__dict__ | {"message": str(f.message)} for f in log_findings]
        }
        if released is not None:
            job.check["private"] = {
                "epsilon": epsilon,
                "delta": released.delta if epsilon else 0.0,
                "tables": released.tables if epsilon else [],
            }
        job.cleaned_at = utcnow()
        if outcome.status != "ok":
            target, reason = (
                JobState.FAILED,
                _("the sandbox stopped it: {reason}", reason=outcome.reason),
            )
        elif short is not None:
            target, reason = JobState.REJECTED, short
        elif report is None or report.verdict == "fail":
            target, reason = JobState.REJECTED, _("the output checks refused its outputs")
        elif report.verdict == "review":
            target, reason = JobState.HELD, _("held for the provider's reviewer")
        else:
            target, reason = JobState.RELEASED, _("every output passed the checks")
        job.outputs = stored
        advance_job(job, target)
        job.phase_started_at = utcnow()
        job.status_reason = both(reason)
        if target != JobState.HELD:
            job.finished_at = utcnow()
        job.progress, job.stage = 1.0, ""
        session.flush()
        action = {
            JobState.FAILED: "compute.fail",
            JobState.REJECTED: "compute.reject",
            JobState.HELD: "compute.check",
            JobState.RELEASED: "compute.release",
        }[target]
        record(
            session,
            actor,
            action=action,
            object_type="compute_job",
            object_id=job.id,
            object_org_id=job.consumer_org_id,
            allowed=target in (JobState.RELEASED, JobState.HELD),
            reason=reason,
            detail={
                "sandbox": job.outcome.get("status"),
                "verdict": report.verdict if report else None,
                "outputs": [{"name": o["name"], "sha256": o["sha256"]} for o in stored],
                "filing_number": alg.filing_number,
                "sha256": job.sha256,
                "epsilon": epsilon,
            },
        )
        _lineage(session, actor, job, alg, stored)
        return {"job": job.id, "status": job.status}


def _lineage(
    session: Session, actor: Actor, job: ComputeJob, alg: Algorithm, stored: list[dict[str, Any]]
) -> None:
    inputs = [
        versions.version_node(session, dataset_id=i["dataset"], number=i["version"])
        for i in job.inputs
    ]
    outputs = [
        lineage.Node(
            name=f"compute/{job.id}/{o['name']}",
            kind="compute_output",
            title=f"{alg.name} → {o['name']}",
            org_id=job.consumer_org_id,
            part="consumer",
            rows=o.get("rows"),
            sha256=o["sha256"],
            link=f"/compute/jobs/{job.id}",
        )
        for o in stored
    ]
    lineage.emit(
        session,
        actor,
        job="compute.job",
        inputs=inputs,
        outputs=outputs,
        contract=job.contract_id,
        detail={
            "algorithm": alg.id,
            "filing_number": alg.filing_number,
            "sha256": job.sha256,
            "status": job.status,
        },
    )


def responsibilities(session: Session, job: ComputeJob) -> list[dict[str, Any]]:
    """Who answers for what in this job (责任边界): the data's providers, the platform
    operator, the algorithm's provider (with its filing number), the consumer; each with its
    organisation and its duties (``accounts.service.boundaries``)."""
    alg = session.get(Algorithm, job.algorithm_id)
    used = [(i["dataset"], i.get("version")) for i in job.inputs] or [
        (d, None) for d in job.datasets
    ]
    return accounts.boundaries(
        session,
        providers=job.provider_org_ids,
        consumer=job.consumer_org_id,
        algorithm={
            "id": job.algorithm_id,
            "name": alg.name if alg else None,
            "filing_number": alg.filing_number if alg else None,
            "org_id": alg.org_id if alg else None,
        },
        personal=authorization.personal_in(session, versions=used),
    )
