"""HTTP routes of the compute domain: algorithm filings and their public register, providers'
trusted lists, compute-to-data jobs and their released outputs, ethics committees and reviews."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from yaosu.accounts.schemas import ResponsibilityPublic
from yaosu.authorization.policy.ethics import re_review_items
from yaosu.compute import ethics, jobs, service
from yaosu.compute.bundles import MAX_BUNDLE_BYTES
from yaosu.compute.models import Algorithm, ComputeJob
from yaosu.compute.schemas import (
    AlgorithmChange,
    AlgorithmDetail,
    AlgorithmFile,
    AlgorithmPublic,
    CommitteeCreate,
    CommitteePublic,
    CommitteeUpdate,
    Deregistration,
    FilingDecision,
    FilingPublic,
    JobCreate,
    JobDecision,
    JobPublic,
    MeetingRecord,
    Requirement,
    ReReview,
    Resubmission,
    ReviewApply,
    ReviewDecision,
    ReviewPublic,
    TrustCreate,
    TrustedPublic,
    VersionPublic,
)
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _
from yaosu.web.deps import ContextDep, CurrentActor, OptionalActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["compute"])

Id = Annotated[str, Path(max_length=40)]
OutputName = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Bundle = Field(
    min_length=4,
    max_length=(MAX_BUNDLE_BYTES * 4) // 3 + 8,
    description="the algorithm bundle: a zip (algorithm.json and .py files), base64-encoded",
)


class AlgorithmFiled(AlgorithmFile):
    bundle: str = Bundle


class ChangeFiled(AlgorithmChange):
    bundle: str = Bundle


class AlgorithmsPublic(BaseModel):
    items: list[AlgorithmPublic]
    total: int


class FilingsPublic(BaseModel):
    items: list[FilingPublic]
    total: int


class TrustedsPublic(BaseModel):
    items: list[TrustedPublic]
    total: int


class JobsPublic(BaseModel):
    items: list[JobPublic]
    total: int


class Revoke(BaseModel):
    reason: str = Field(min_length=2, max_length=4000)


def _bundle(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(problem=_("the bundle is not base64")) from exc


def detail(session: Any, actor: Actor, alg: Algorithm) -> AlgorithmPublic | AlgorithmDetail:
    """The public text for everyone; the whole filing for its provider and oversight."""
    public = AlgorithmPublic.model_validate(alg)
    if not service.sees_filing(actor, alg):
        return public
    return AlgorithmDetail(
        **public.model_dump(),
        responsible=alg.responsible,
        self_assessment=alg.self_assessment,
        versions=[
            VersionPublic.model_validate(v)
            for v in service.versions_of(session, algorithm_id=alg.id)
        ],
        filings=[
            FilingPublic.model_validate(f) for f in service.filings_of(session, algorithm_id=alg.id)
        ],
    )


def job_public(session: Any, job: ComputeJob) -> JobPublic:
    alg = session.get(Algorithm, job.algorithm_id)
    return JobPublic.model_validate(job).model_copy(
        update={
            "filing_number": alg.filing_number if alg else None,
            "responsibilities": [
                ResponsibilityPublic.model_validate(p) for p in jobs.responsibilities(session, job)
            ],
        }
    )


# --- algorithms and filings ------------------------------------------------------------------


@router.get("/algorithms", response_model=AlgorithmsPublic)
def list_algorithms(
    actor: CurrentActor,
    session: SessionDep,
    status: Annotated[
        str | None, Query(pattern=r"^(submitted|filed|returned|deregistered)$")
    ] = None,
) -> AlgorithmsPublic:
    """Algorithms you may see: every filed one, and your organisation's (oversight: all)."""
    found = service.list_algorithms(session, actor, status=status)
    return AlgorithmsPublic(
        items=[AlgorithmPublic.model_validate(a) for a in found], total=len(found)
    )


@router.get("/algorithms/register", response_model=AlgorithmsPublic)
def register(actor: OptionalActor, session: SessionDep) -> AlgorithmsPublic:
    """The public register (算法备案公示): filed and deregistered algorithms, their filing
    numbers and public text. No login needed."""
    found = service.public_register(session)
    return AlgorithmsPublic(
        items=[AlgorithmPublic.model_validate(a) for a in found], total=len(found)
    )


@router.post("/algorithms", response_model=AlgorithmDetail, status_code=201)
async def file_algorithm(
    body: AlgorithmFiled, actor: CurrentActor, ctx: ContextDep
) -> AlgorithmPublic | AlgorithmDetail:
    """File an algorithm (Art. 24): the filing form and its bundle, base64."""
    data = AlgorithmFile.model_validate(body.model_dump(exclude={"bundle"}))
    alg = await run_in_threadpool(
        service.run_file, ctx, actor, data=data, bundle=_bundle(body.bundle)
    )
    return await run_in_threadpool(_detail, ctx, actor, alg.id)


def _detail(ctx: Context, actor: Actor, algorithm_id: str) -> AlgorithmPublic | AlgorithmDetail:
    with ctx.db.transaction() as session:
        return detail(
            session, actor, service.get_algorithm(session, actor, algorithm_id=algorithm_id)
        )


@router.get("/algorithms/{algorithm_id}", response_model=AlgorithmDetail | AlgorithmPublic)
def get_algorithm(
    algorithm_id: Id, actor: OptionalActor, session: SessionDep
) -> AlgorithmPublic | AlgorithmDetail:
    """A filed algorithm's public text (no login needed); its provider and oversight also see
    the self-assessment, the person responsible, every version's files and every filing."""
    return detail(session, actor, service.get_algorithm(session, actor, algorithm_id=algorithm_id))


@router.post("/algorithms/{algorithm_id}/changes", response_model=FilingPublic, status_code=201)
async def change_algorithm(
    algorithm_id: Id, body: ChangeFiled, actor: CurrentActor, ctx: ContextDep
) -> FilingPublic:
    """File a change (Art. 25): a new version of the code, decided like a filing."""
    data = AlgorithmChange.model_validate(body.model_dump(exclude={"bundle"}))
    filing = await run_in_threadpool(
        service.run_change,
        ctx,
        actor,
        algorithm_id=algorithm_id,
        data=data,
        bundle=_bundle(body.bundle),
    )
    return FilingPublic.model_validate(filing)


@router.post(
    "/algorithms/{algorithm_id}/deregistration", response_model=FilingPublic, status_code=201
)
def deregister(
    algorithm_id: Id, body: Deregistration, actor: CurrentActor, session: SessionDep
) -> FilingPublic:
    """Deregister (注销, Art. 25): the service ended."""
    return FilingPublic.model_validate(
        service.deregister(session, actor, algorithm_id=algorithm_id, data=body)
    )


@router.post("/algorithms/{algorithm_id}/resubmit", response_model=FilingPublic, status_code=201)
def resubmit(
    algorithm_id: Id, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> FilingPublic:
    """Submit a returned filing again, once completed."""
    filing = service.resubmit(session, actor, settings=ctx.settings, algorithm_id=algorithm_id)
    return FilingPublic.model_validate(filing)


@router.get("/filings", response_model=FilingsPublic)
def filings_due(actor: CurrentActor, session: SessionDep) -> FilingsPublic:
    """Filings waiting for the filing department (网信), the nearest deadline first."""
    found = service.filings_due(session, actor)
    return FilingsPublic(items=[FilingPublic.model_validate(f) for f in found], total=len(found))


@router.post("/filings/{filing_id}/decision", response_model=FilingPublic)
def decide_filing(
    filing_id: Id, body: FilingDecision, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> FilingPublic:
    """File (issue the number, publish the text) or return a filing, with the reason."""
    filing = service.decide_filing(
        session,
        actor,
        settings=ctx.settings,
        filing_id=filing_id,
        approve=body.decision == "file",
        reason=body.reason,
    )
    return FilingPublic.model_validate(filing)


# --- trusted lists ---------------------------------------------------------------------------


@router.get("/datasets/{dataset_id}/trusted-algorithms", response_model=TrustedsPublic)
def trusted(dataset_id: Id, actor: CurrentActor, session: SessionDep) -> TrustedsPublic:
    """The algorithm versions (by hash) the dataset's holder lets run on it."""
    found = service.trusted_list(session, actor, dataset_id=dataset_id)
    return TrustedsPublic(items=[TrustedPublic.model_validate(t) for t in found], total=len(found))


@router.post(
    "/datasets/{dataset_id}/trusted-algorithms", response_model=TrustedPublic, status_code=201
)
def trust(
    dataset_id: Id, body: TrustCreate, actor: CurrentActor, session: SessionDep
) -> TrustedPublic:
    """Approve one version of a filed algorithm for the dataset (its hash joins the list)."""
    entry = service.trust(
        session,
        actor,
        dataset_id=dataset_id,
        algorithm_id=body.algorithm_id,
        version=body.version,
        note=body.note,
    )
    return TrustedPublic.model_validate(entry)


@router.post("/trusted-algorithms/{trusted_id}/revoke", response_model=TrustedPublic)
def revoke(trusted_id: Id, body: Revoke, actor: CurrentActor, session: SessionDep) -> TrustedPublic:
    """Withdraw an approval: jobs not yet running with that hash on the dataset fail."""
    return TrustedPublic.model_validate(
        service.distrust(session, actor, trusted_id=trusted_id, reason=body.reason)
    )


# --- jobs ------------------------------------------------------------------------------------


@router.get("/compute/jobs", response_model=JobsPublic)
def list_jobs(
    actor: CurrentActor,
    session: SessionDep,
    status: Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]+$")] = None,
    contract_id: Annotated[str | None, Query(max_length=40)] = None,
) -> JobsPublic:
    """Compute jobs you may see: your organisation's, those on its data, or (oversight) all."""
    found = jobs.list_jobs(session, actor, status=status, contract_id=contract_id)
    return JobsPublic(items=[job_public(session, j) for j in found], total=len(found))


@router.post("/compute/jobs", response_model=JobPublic, status_code=201)
async def submit(body: JobCreate, actor: CurrentActor, ctx: ContextDep) -> JobPublic:
    """Submit a job: a filed algorithm, by hash, on what a contract grants."""
    job = await run_in_threadpool(jobs.run_submit, ctx, actor, data=body)
    return await run_in_threadpool(_job, ctx, actor, job.id)


def _job(ctx: Context, actor: Actor, job_id: str) -> JobPublic:
    with ctx.db.transaction() as session:
        return job_public(session, jobs.get_job(session, actor, job_id=job_id))


@router.get("/compute/jobs/{job_id}", response_model=JobPublic)
def get_job(job_id: Id, actor: CurrentActor, session: SessionDep) -> JobPublic:
    """A job: its state and reason, progress, approvals, inputs, the sandbox's outcome, the
    output check's report, the checked log and the released outputs."""
    return job_public(session, jobs.get_job(session, actor, job_id=job_id))


@router.post("/compute/jobs/{job_id}/approval", response_model=JobPublic)
def approve(job_id: Id, body: JobDecision, actor: CurrentActor, session: SessionDep) -> JobPublic:
    """The data's provider approves (optionally trusting the hash from now on) or refuses."""
    job = jobs.decide_approval(
        session,
        actor,
        job_id=job_id,
        approve=body.decision == "approve",
        reason=body.reason,
        trust=body.trust,
    )
    return job_public(session, job)


@router.post("/compute/jobs/{job_id}/review", response_model=JobPublic)
def review(job_id: Id, body: ReviewDecision, actor: CurrentActor, session: SessionDep) -> JobPublic:
    """The provider's reviewer releases or rejects held outputs."""
    job = jobs.review(
        session, actor, job_id=job_id, release=body.decision == "release", reason=body.reason
    )
    return job_public(session, job)


@router.post("/compute/jobs/{job_id}/cancel", response_model=JobPublic)
def cancel(job_id: Id, actor: CurrentActor, session: SessionDep) -> JobPublic:
    return job_public(session, jobs.cancel(session, actor, job_id=job_id))


@router.get(
    "/compute/jobs/{job_id}/outputs/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(
    job_id: Id, name: OutputName, actor: CurrentActor, ctx: ContextDep
) -> FileResponse:
    """A released output (Parquet, JSON or Markdown), for the consumer; audited."""
    path, output = await run_in_threadpool(jobs.run_download, ctx, actor, job_id=job_id, name=name)
    return FileResponse(path, filename=f"{job_id}-{name}{output['suffix']}")


# --- ethics review (科技伦理审查) -------------------------------------------------------------


class CommitteesPublic(BaseModel):
    items: list[CommitteePublic]
    total: int


class ReviewsPublic(BaseModel):
    items: list[ReviewPublic]
    total: int


@router.get("/ethics/committees", response_model=CommitteesPublic)
def list_committees(
    actor: CurrentActor,
    session: SessionDep,
    org_id: Annotated[str | None, Query(max_length=40)] = None,
) -> CommitteesPublic:
    """Registered ethics committees (public to signed-in users), or one organisation's."""
    found = ethics.list_committees(session, actor, org_id=org_id)
    return CommitteesPublic(
        items=[CommitteePublic.model_validate(c) for c in found], total=len(found)
    )


@router.post("/ethics/committees", response_model=CommitteePublic, status_code=201)
def create_committee(
    body: CommitteeCreate, actor: CurrentActor, session: SessionDep
) -> CommitteePublic:
    """Set up your organisation's committee; its composition is checked against Art. 7."""
    return CommitteePublic.model_validate(ethics.create_committee(session, actor, data=body))


@router.get("/ethics/committees/{committee_id}", response_model=CommitteePublic)
def get_committee(committee_id: Id, actor: CurrentActor, session: SessionDep) -> CommitteePublic:
    return CommitteePublic.model_validate(
        ethics.get_committee(session, actor, committee_id=committee_id)
    )


@router.put("/ethics/committees/{committee_id}", response_model=CommitteePublic)
def update_committee(
    committee_id: Id, body: CommitteeUpdate, actor: CurrentActor, session: SessionDep
) -> CommitteePublic:
    """Change the members (checked again), whether it takes entrusted reviews, its term."""
    return CommitteePublic.model_validate(
        ethics.update_committee(session, actor, committee_id=committee_id, data=body)
    )


@router.get("/ethics/reviews", response_model=ReviewsPublic)
def list_reviews(
    actor: CurrentActor,
    session: SessionDep,
    algorithm_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[
        str | None,
        Query(
            pattern=r"^(submitted|re_review|approved|revise|rejected|lapsed|superseded|revoked)$"
        ),
    ] = None,
) -> ReviewsPublic:
    """Reviews you may see: your organisation's applications, those before its committee,
    or (oversight) all."""
    found = ethics.list_reviews(
        session, actor, algorithm_id=algorithm_id, statuses=[status] if status else []
    )
    return ReviewsPublic(items=[ReviewPublic.model_validate(r) for r in found], total=len(found))


@router.post("/ethics/reviews", response_model=ReviewPublic, status_code=201)
def apply_for_review(body: ReviewApply, actor: CurrentActor, session: SessionDep) -> ReviewPublic:
    """Apply for a review of an algorithm on the data it is to run on: the first review, a
    follow-up of an approval, or a modification (the algorithm's new version)."""
    return ReviewPublic.model_validate(ethics.apply(session, actor, data=body))


@router.get("/ethics/reviews/{review_id}", response_model=ReviewPublic)
def get_review(review_id: Id, actor: CurrentActor, session: SessionDep) -> ReviewPublic:
    return ReviewPublic.model_validate(ethics.get_review(session, actor, review_id=review_id))


@router.post("/ethics/reviews/{review_id}/meeting", response_model=ReviewPublic)
def record_meeting(
    review_id: Id, body: MeetingRecord, actor: CurrentActor, ctx: ContextDep, session: SessionDep
) -> ReviewPublic:
    """The committee's secretariat records the meeting (or the simplified procedure's
    reviewers): who was present, who withdrew, each vote; the decision follows the votes."""
    review = ethics.decide(session, actor, review_id=review_id, data=body, settings=ctx.settings)
    return ReviewPublic.model_validate(review)


@router.post("/ethics/reviews/{review_id}/re-review", response_model=ReviewPublic)
def re_review(
    review_id: Id, body: ReReview, actor: CurrentActor, ctx: ContextDep, session: SessionDep
) -> ReviewPublic:
    """Expert re-review (专家复核) by the competent department."""
    review = ethics.re_review(session, actor, review_id=review_id, data=body, settings=ctx.settings)
    return ReviewPublic.model_validate(review)


@router.post("/ethics/reviews/{review_id}/resubmit", response_model=ReviewPublic)
def resubmit_review(
    review_id: Id, body: Resubmission, actor: CurrentActor, session: SessionDep
) -> ReviewPublic:
    """Submit revised materials after the committee asked for revision (修改后再审)."""
    return ReviewPublic.model_validate(
        ethics.resubmit(session, actor, review_id=review_id, data=body)
    )


@router.get("/algorithms/{algorithm_id}/ethics", response_model=Requirement)
def ethics_requirement(
    algorithm_id: Id,
    actor: CurrentActor,
    session: SessionDep,
    datasets: Annotated[list[str], Query(max_length=20)],
) -> Requirement:
    """Whether the algorithm's current version needs an ethics review on these datasets, why
    (with the articles), whether it also needs expert re-review, and the approval covering it."""
    alg = service.get_algorithm(session, actor, algorithm_id=algorithm_id)
    if not datasets or any(len(d) > 40 for d in datasets):
        raise InvalidInput(problem=_("name the datasets, each by its id"))
    needed = jobs.requirement(session, actor, alg, datasets)
    approval = jobs.covering(session, algorithm_id=alg.id, sha256=alg.sha256, datasets=datasets)
    return Requirement(
        algorithm_id=alg.id,
        datasets=datasets,
        grounds=needed,
        re_review=re_review_items(uses=alg.uses, subjects=alg.subjects),
        approval=ReviewPublic.model_validate(approval) if approval else None,
    )
