"""Console pages of the compute domain: the public register of filed algorithms (算法备案公示),
an algorithm's page (its public text for everyone; the whole filing, its versions, its
filings and the provider's and the filing department's forms for those who may see them),
the filing form, the 网信 office's queue of filings to decide, a dataset's trusted list, and
compute-to-data jobs: the list, the submission form from a contract, and a job's page with
its progress, checks, outputs and each party's form.

The same service functions as the API (``compute.service``, ``compute.jobs``) decide; these
pages only show and ask. A form that takes an upload asks the policy before it reads the file,
as the market's bank import does, so a refusal never waits on (or hides behind) a bad file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar, get_args

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization import service as authorization
from yaosu.authorization.operations import Operation
from yaosu.authorization.policy import Resource, decide, enforce
from yaosu.authorization.policy.redlines import SUBJECTS, USES
from yaosu.catalog import service as catalog
from yaosu.compute import bundles, ethics, forms, jobs, service
from yaosu.compute.models import Algorithm, ComputeJob
from yaosu.compute.schemas import (
    AlgorithmChange,
    AlgorithmFile,
    AlgorithmType,
    Deregistration,
    FilingDecision,
    JobCreate,
    JobDecision,
    ReviewDecision,
)
from yaosu.compute.states import JOB_ACTIVE, FilingState, JobState, ReviewState
from yaosu.console import steps
from yaosu.console.render import back_with_error, done, render
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, NotFound, YaosuError
from yaosu.kernel.i18n import N_, Message, _, localise, register_labels
from yaosu.web.deps import ANONYMOUS, ContextDep, OptionalActor, PageActor, SessionDep, locale
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)

REGISTER = "/algorithms"
JOBS = "/compute/jobs"
PUBLIC = (FilingState.FILED, FilingState.DEREGISTERED)
CANCELLABLE = (JobState.AWAITING_APPROVAL, JobState.QUEUED, JobState.RUNNING)
MOVING = (JobState.QUEUED, JobState.RUNNING, JobState.CHECKING)  # a progress bar is shown

# What a form that took effect says on the page it lands on (``yaosu.console.steps``).
steps.STEPS.update(
    {
        "algorithm.filed": steps.Step(
            N_("The algorithm is filed with the filing department (网信)."),
            steps.Next(
                N_(
                    "It decides within 30 working days; once filed, the algorithm gets its number and its public text is published. The decision shows on this page."
                )
            ),
        ),
        "algorithm.changed": steps.Step(
            N_("The change is filed: its new version waits for the filing department."),
            steps.Next(
                N_(
                    "Jobs keep running the version they name; the new one becomes current once it is filed."
                )
            ),
        ),
        "algorithm.deregistering": steps.Step(
            N_("The deregistration is filed."),
            steps.Next(
                N_("No new job runs the algorithm from now on; the filing department confirms it.")
            ),
        ),
        "algorithm.resubmitted": steps.Step(
            N_("The completed filing is submitted again."),
            steps.Next(N_("The filing department decides it within 30 working days.")),
        ),
        "filing.decided": steps.Step(
            N_("The filing is decided."),
            steps.Next(
                N_(
                    "The provider reads the decision and its reason below; a filed algorithm's public text is on the public register."
                ),
                REGISTER,
                N_("Public register"),
            ),
        ),
        "trust.added": steps.Step(
            N_("The algorithm's version is on the dataset's trusted list."),
            steps.Next(
                N_(
                    "Jobs that run this version (by its hash) on the dataset need no further approval; withdraw it below at any time."
                )
            ),
        ),
        "trust.revoked": steps.Step(
            N_("The approval is withdrawn."),
            steps.Next(
                N_(
                    "Jobs not yet running this version on the dataset fail; a new one waits for your approval again."
                )
            ),
        ),
        "compute.submitted": steps.Step(
            N_("The job is submitted."),
            steps.Next(
                N_(
                    "It runs once every provider of its data has approved the algorithm's code; its state below follows it."
                )
            ),
        ),
        "compute.decided": steps.Step(
            N_("Your decision is recorded."),
            steps.Next(N_("The job runs once every provider has approved it; a refusal ends it.")),
        ),
        "compute.reviewed": steps.Step(
            N_("The held outputs are decided."),
            steps.Next(
                N_("Released outputs are the consumer's to download; rejected ones are not kept.")
            ),
        ),
        "compute.cancelled": steps.Step(
            N_("The job is cancelled."),
            steps.Next(
                N_("It runs no further; a job cancelled before it saw the data costs no use.")
            ),
        ),
    }
)

# Words for what a job record stores as codes: the output checks, their verdicts, each
# provider's approval and the worker's stages (an algorithm's own stage shows as it wrote it).
register_labels(
    "output_check",
    {
        "files": N_("the output folder and its manifest"),
        "size": N_("output size"),
        "kind": N_("declared output kinds"),
        "raw_rows": N_("raw input rows"),
        "raw_values": N_("identifying input values"),
        "personal": N_("personal information"),
        "min_cell": N_("smallest cell"),
        "dominance": N_("dominance"),
        "p_ratio": N_("p-ratio"),
        "zeros": N_("empty cells"),
        "model": N_("trained model"),
    },
)
register_labels(
    "check_verdict",
    {"pass": N_("passed"), "review": N_("needs a person's review"), "fail": N_("refused")},
)
register_labels(
    "compute_approval",
    {"waiting": N_("waiting"), "approved": N_("approved"), "refused": N_("refused")},
)
register_labels(
    "compute_stage",
    {
        "inputs": N_("preparing the granted inputs"),
        "running": N_("running in the sandbox"),
        "checking": N_("checking the outputs"),
    },
)

# The forms' fields as the pages name them, for the problems pydantic finds (its own
# sentences are English).
FIELDS = {
    "name": N_("Name"),
    "algorithm_type": N_("Algorithm type"),
    "service_form": N_("Service form"),
    "field": N_("Field of application"),
    "uses": N_("What it does"),
    "subjects": N_("Whom it concerns"),
    "responsible.name": N_("Person responsible: name"),
    "responsible.title": N_("Person responsible: position"),
    "responsible.contact": N_("Person responsible: contact"),
    "self_assessment": N_("Self-assessment report"),
    "public_text.principle": N_("Basic principle"),
    "public_text.purpose": N_("Purpose and intent"),
    "public_text.mechanism": N_("Main operating mechanism"),
    "started_on": N_("Service started on"),
    "summary": N_("What changed and why"),
    "changed_on": N_("Changed on"),
    "reason": N_("Reason"),
    "ended_on": N_("Service ended on"),
    "datasets": N_("Datasets"),
}


Model = TypeVar("Model", bound=BaseModel)


def _validated(model: type[Model], doc: Mapping[str, Any]) -> Model:
    return forms.validated(model, doc, FIELDS)


def _bundle(upload: UploadFile | None) -> bytes:
    """The uploaded zip, read one byte past the limit at most (``bundles.parse`` refuses it)."""
    if upload is None or not upload.filename:
        raise InvalidInput(
            problem=_("choose the algorithm's bundle: a zip of algorithm.json and its Python files")
        )
    return upload.file.read(bundles.MAX_BUNDLE_BYTES + 1)


def _red_lines(ctx: Context) -> dict[str, Any]:
    return {"red_lines": service.red_lines(ctx.settings)}


def _frame(actor: Actor, ctx: Context) -> dict[str, bool]:
    """``can`` for the compute pages' own tabs: filing an algorithm, deciding filings."""
    new = Resource("algorithm", "new", actor.org_id, {"uses": [], "subjects": []})
    waiting = Resource("algorithm", "*", None, {"status": FilingState.SUBMITTED})
    return {
        "algorithm.file": decide(actor, "algorithm.file", new, _red_lines(ctx)).allowed,
        "algorithm.decide": decide(actor, "algorithm.decide", waiting).allowed,
    }


def _pretty(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --- the public register, an algorithm, filing ------------------------------------------------


@router.get(REGISTER)
def register_page(
    request: Request, actor: OptionalActor, session: SessionDep, ctx: ContextDep
) -> Response:
    """算法备案公示, public: every filed (and deregistered) algorithm with its number and its
    public text. Signed in, also the filings not yet public that the reader may see (its
    organisation's; oversight: all)."""
    waiting = []
    if actor is not ANONYMOUS:
        waiting = [a for a in service.list_algorithms(session, actor) if a.status not in PUBLIC]
    return render(
        request,
        actor,
        "algorithm_register.html",
        items=service.public_register(session),
        waiting=waiting,
        names=accounts.org_names(session),
        can=_frame(actor, ctx),
    )


# The filing form's fields as ``AlgorithmFile`` nests them, empty (what the form starts with).
BLANK: dict[str, Any] = {
    "name": "",
    "algorithm_type": "",
    "service_form": "",
    "field": "",
    "uses": [],
    "subjects": [],
    "responsible": {"name": "", "title": "", "contact": ""},
    "self_assessment": "",
    "public_text": {"principle": "", "purpose": "", "mechanism": ""},
    "started_on": None,
}


def _filing_form(
    request: Request,
    actor: Actor,
    ctx: Context,
    *,
    values: Mapping[str, Any],
    error: str | None = None,
    status: int = 200,
) -> Response:
    can = _frame(actor, ctx)
    if not can["algorithm.file"] and error is None:
        new = Resource("algorithm", "new", actor.org_id, {"uses": [], "subjects": []})
        reason = decide(actor, "algorithm.file", new, _red_lines(ctx)).reason
        error = reason.render(locale(request))
    return render(
        request,
        actor,
        "algorithm_new.html",
        status=status,
        values=values,
        types=get_args(AlgorithmType),
        uses=list(USES),
        subjects=list(SUBJECTS),
        red_lines=service.red_lines(ctx.settings),
        max_mb=bundles.MAX_BUNDLE_BYTES >> 20,
        error=error,
        can=can,
    )


@router.get(f"{REGISTER}/new")
def new_algorithm_page(request: Request, actor: PageActor, ctx: ContextDep) -> Response:
    """The filing form (Art. 24): the description, the public text and the code's bundle."""
    return _filing_form(request, actor, ctx, values=BLANK)


@router.post(f"{REGISTER}/new")
def file_form(
    request: Request,
    actor: PageActor,
    ctx: ContextDep,
    name: Annotated[str, Form(max_length=200)] = "",
    algorithm_type: Annotated[str, Form(max_length=20)] = "",
    service_form: Annotated[str, Form(max_length=200)] = "",
    field: Annotated[str, Form(max_length=200)] = "",
    uses: Annotated[list[str] | None, Form()] = None,
    subjects: Annotated[list[str] | None, Form()] = None,
    responsible_name: Annotated[str, Form(max_length=100)] = "",
    responsible_title: Annotated[str, Form(max_length=100)] = "",
    responsible_contact: Annotated[str, Form(max_length=200)] = "",
    self_assessment: Annotated[str, Form(max_length=20_000)] = "",
    principle: Annotated[str, Form(max_length=4000)] = "",
    purpose: Annotated[str, Form(max_length=4000)] = "",
    mechanism: Annotated[str, Form(max_length=4000)] = "",
    started_on: Annotated[str, Form(max_length=10)] = "",
    bundle: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Files the algorithm; a problem re-renders the form with what was typed (the file must
    be chosen again: a browser never refills a file field). Runs in its own transactions, so
    the form holds no session while the bundle is parsed and stored."""
    values = {
        "name": name,
        "algorithm_type": algorithm_type,
        "service_form": service_form,
        "field": field,
        "uses": [u[:40] for u in uses or []][:20],
        "subjects": [s[:40] for s in subjects or []][:10],
        "responsible": {
            "name": responsible_name,
            "title": responsible_title,
            "contact": responsible_contact,
        },
        "self_assessment": self_assessment,
        "public_text": {"principle": principle, "purpose": purpose, "mechanism": mechanism},
        "started_on": started_on or None,
    }
    try:
        declared = {"uses": values["uses"], "subjects": values["subjects"]}
        new = Resource("algorithm", "new", actor.org_id, declared)
        enforce(actor, "algorithm.file", new, _red_lines(ctx))
        data = _validated(AlgorithmFile, values)
        alg = service.run_file(ctx, actor, data=data, bundle=_bundle(bundle))
    except YaosuError as exc:
        audit_refusal(request, exc)
        message = exc.message(locale(request))
        return _filing_form(request, actor, ctx, values=values, error=message, status=exc.status)
    return done(f"{REGISTER}/{alg.id}", "algorithm.filed")


@router.get(f"{REGISTER}/filings")
def filings_page(
    request: Request, actor: PageActor, session: SessionDep, ctx: ContextDep
) -> Response:
    """The filing department's queue (Art. 26): filings to decide, the nearest deadline
    first, each with the day it must be decided by (30 working days)."""
    due = service.filings_due(session, actor)
    algorithms = {
        f.algorithm_id: service.get_algorithm(session, actor, algorithm_id=f.algorithm_id)
        for f in due
    }
    return render(
        request,
        actor,
        "algorithm_filings.html",
        filings=due,
        algorithms=algorithms,
        names=accounts.org_names(session),
        can=_frame(actor, ctx),
    )


def _algorithm_rights(
    session: Session, actor: Actor, ctx: Context, alg: Algorithm
) -> dict[str, bool]:
    """The algorithm page's forms, each offered when its state permits it and ``decide``
    allows it (a filing still being decided permits none of the provider's)."""
    res = service.resource(alg)
    pending = service.pending_kind(session, alg)
    filed = alg.status == FilingState.FILED and pending is None
    returned = alg.status == FilingState.RETURNED and pending is None
    return {
        "algorithm.change": filed
        and decide(actor, "algorithm.change", res, _red_lines(ctx)).allowed,
        "algorithm.deregister": filed and decide(actor, "algorithm.deregister", res).allowed,
        "algorithm.resubmit": returned
        and decide(actor, "algorithm.file", res, _red_lines(ctx)).allowed,
        "algorithm.decide": pending is not None and decide(actor, "algorithm.decide", res).allowed,
    }


@router.get(REGISTER + "/{algorithm_id}")
def algorithm_page(
    request: Request,
    algorithm_id: str,
    actor: OptionalActor,
    session: SessionDep,
    ctx: ContextDep,
    error: str | None = None,
) -> Response:
    """A filed algorithm's public text, for everyone. Its provider and oversight also see the
    self-assessment, the person responsible, every version's code (by hash) and every filing
    with its deadlines; their forms are here."""
    alg = service.get_algorithm(session, actor, algorithm_id=algorithm_id[:40])
    whole = service.sees_filing(actor, alg)
    versions = service.versions_of(session, algorithm_id=alg.id) if whole else []
    filings = service.filings_of(session, algorithm_id=alg.id) if whole else []
    deciders = {f.decided_by for f in filings if f.decided_by}
    return render(
        request,
        actor,
        "algorithm.html",
        alg=alg,
        whole=whole,
        versions=[{"v": v, "parameters": _pretty(v.parameters)} for v in versions],
        filings=filings,
        provider=accounts.org_names(session, ids=[alg.org_id]).get(alg.org_id, ""),
        users=accounts.user_names(session, ids=deciders),
        ethics_approvals=[]
        if actor is ANONYMOUS
        else ethics.list_reviews(
            session, actor, algorithm_id=alg.id, statuses=[ReviewState.APPROVED]
        ),
        error=error,
        can=_frame(actor, ctx) | _algorithm_rights(session, actor, ctx, alg),
    )


def _algorithm_page(algorithm_id: str) -> str:
    return f"{REGISTER}/{algorithm_id}"


@router.post(REGISTER + "/{algorithm_id}/changes")
def change_form(
    request: Request,
    algorithm_id: str,
    actor: PageActor,
    ctx: ContextDep,
    summary: Annotated[str, Form(max_length=4000)] = "",
    changed_on: Annotated[str, Form(max_length=10)] = "",
    bundle: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Files a change (Art. 25): the new version's bundle and what changed."""
    back = _algorithm_page(algorithm_id[:40])
    try:
        with ctx.db.transaction() as session:  # asked before the upload is read
            alg = service.get_algorithm(session, actor, algorithm_id=algorithm_id[:40])
            enforce(actor, "algorithm.change", service.resource(alg), _red_lines(ctx))
        data = _validated(AlgorithmChange, {"summary": summary, "changed_on": changed_on or None})
        service.run_change(ctx, actor, algorithm_id=alg.id, data=data, bundle=_bundle(bundle))
    except YaosuError as exc:
        if exc.status == 404:  # the algorithm itself is hidden: the error page says so
            raise
        return back_with_error(request, back, exc, session=None)
    return done(back, "algorithm.changed")


@router.post(REGISTER + "/{algorithm_id}/deregistration")
def deregistration_form(
    request: Request,
    algorithm_id: str,
    actor: PageActor,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
    ended_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Deregisters (注销, Art. 25): the service ended."""
    back = _algorithm_page(algorithm_id[:40])
    try:
        data = _validated(Deregistration, {"reason": reason, "ended_on": ended_on or None})
        with session.begin_nested():
            service.deregister(session, actor, algorithm_id=algorithm_id[:40], data=data)
    except YaosuError as exc:
        if exc.status == 404:
            raise
        return back_with_error(request, back, exc, session=session)
    return done(back, "algorithm.deregistering")


@router.post(REGISTER + "/{algorithm_id}/resubmit")
def resubmit_form(
    request: Request, algorithm_id: str, actor: PageActor, session: SessionDep, ctx: ContextDep
) -> Response:
    """Submits a returned filing again, once its provider has completed it."""
    back = _algorithm_page(algorithm_id[:40])
    try:
        with session.begin_nested():
            service.resubmit(session, actor, settings=ctx.settings, algorithm_id=algorithm_id[:40])
    except YaosuError as exc:
        if exc.status == 404:
            raise
        return back_with_error(request, back, exc, session=session)
    return done(back, "algorithm.resubmitted")


@router.post(REGISTER + "/{algorithm_id}/filings/{filing_id}/decision")
def decision_form(
    request: Request,
    algorithm_id: str,
    filing_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    decision: Annotated[str, Form(max_length=8)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The filing department files (a number is issued, the text published) or returns it."""
    back = _algorithm_page(algorithm_id[:40])
    try:
        alg = service.get_algorithm(session, actor, algorithm_id=algorithm_id[:40])
        if filing_id not in {f.id for f in service.filings_of(session, algorithm_id=alg.id)}:
            raise NotFound(kind=_("Filing"), id=filing_id[:40])
        body = _validated(FilingDecision, {"decision": decision, "reason": reason})
        with session.begin_nested():
            service.decide_filing(
                session,
                actor,
                settings=ctx.settings,
                filing_id=filing_id,
                approve=body.decision == "file",
                reason=body.reason,
            )
    except YaosuError as exc:
        if exc.status == 404:
            raise
        return back_with_error(request, back, exc, session=session)
    return done(back, "filing.decided")


# --- a dataset's trusted list ----------------------------------------------------------------


def _trusted_path(dataset_id: str) -> str:
    return f"/datasets/{dataset_id}/algorithms"


@router.get("/datasets/{dataset_id}/algorithms")
def trusted_page(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    """The algorithm versions (by hash) the dataset's holder lets run on it, who approved
    each, and the holder's forms: approve a filed algorithm's version, withdraw an approval."""
    entries = service.trusted_list(session, actor, dataset_id=dataset_id[:40])
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id[:40])
    trust = decide(actor, "algorithm.trust", Resource("trusted", ds.id, ds.owner_org_id))
    filed = [a for a in service.public_register(session) if a.status == FilingState.FILED]
    choices = [
        {"alg": a, "version": v}
        for a in filed
        for v in service.versions_of(session, algorithm_id=a.id)
        if v.number <= a.current_version  # a change still being decided is not offered
    ]
    people = {e.approved_by for e in entries} | {e.revoked_by for e in entries if e.revoked_by}
    return render(
        request,
        actor,
        "trusted.html",
        ds=ds,
        entries=entries,
        algorithms={a.id: a for a in service.list_algorithms(session, actor)},
        choices=choices,
        users=accounts.user_names(session, ids=people),
        error=error,
        can={
            "algorithm.trust": trust.allowed,
            "algorithm.distrust": decide(
                actor, "algorithm.distrust", Resource("trusted", ds.id, ds.owner_org_id)
            ).allowed,
        },
    )


@router.post("/datasets/{dataset_id}/algorithms")
def trust_form(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    version: Annotated[str, Form(max_length=60)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approves one version of a filed algorithm for the dataset (``version``: its id and
    number, as the form's choices name them)."""
    back = _trusted_path(dataset_id[:40])
    try:
        algorithm_id, _sep, number = version.rpartition(":")
        if not algorithm_id or not number.isdigit():
            raise InvalidInput(problem=_("choose a filed algorithm's version"))
        with session.begin_nested():
            service.trust(
                session,
                actor,
                dataset_id=dataset_id[:40],
                algorithm_id=algorithm_id,
                version=int(number),
                note=note,
            )
    except YaosuError as exc:
        if exc.status == 404:
            raise
        return back_with_error(request, back, exc, session=session)
    return done(back, "trust.added")


@router.post("/datasets/{dataset_id}/algorithms/{trusted_id}/revoke")
def revoke_form(
    request: Request,
    dataset_id: str,
    trusted_id: str,
    actor: PageActor,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Withdraws an approval: jobs not yet running that hash on the dataset fail."""
    back = _trusted_path(dataset_id[:40])
    try:
        if len(reason.strip()) < 2:
            raise InvalidInput(
                problem=_("say why the approval is withdrawn (at least 2 characters)")
            )
        listed = service.trusted_list(session, actor, dataset_id=dataset_id[:40])
        if trusted_id not in {e.id for e in listed}:
            raise NotFound(kind=_("Trusted algorithm"), id=trusted_id[:40])
        with session.begin_nested():
            service.distrust(session, actor, trusted_id=trusted_id, reason=reason)
    except YaosuError as exc:
        if exc.status == 404:
            raise
        return back_with_error(request, back, exc, session=session)
    return done(back, "trust.revoked")


# --- jobs ------------------------------------------------------------------------------------


def _runnable(session: Session, actor: Actor) -> list[Any]:
    """The reader's organisation's contracts that grant ``compute`` and name an algorithm:
    where a new job starts (its form says whether the reader may submit one)."""
    if actor.org_id is None:
        return []
    return [
        c
        for c in authorization.list_contracts(session, actor)
        if c.consumer_org_id == actor.org_id
        and Operation.compute in c.operations
        and c.algorithm
        and authorization.status_of(c) == "active"
    ]


def _holdings(session: Session, actor: Actor) -> list[Any]:
    """The reader's organisation's datasets whose trusted list it may read."""
    if actor.org_id is None:
        return []
    mine = catalog.list_datasets(session, actor, provider=actor.org_id, limit=100).items
    return [
        d
        for d in mine
        if decide(actor, "algorithm.trusted", Resource("trusted", d.id, d.owner_org_id)).allowed
    ]


@router.get(JOBS)
def jobs_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Compute jobs the reader may see (its organisation's, those on its data; oversight:
    all), newest first; where a new one starts; the trusted lists of its datasets."""
    chosen = status if status in set(JobState) else ""
    found = jobs.list_jobs(session, actor, status=chosen or None)
    contracts = _runnable(session, actor)
    return render(
        request,
        actor,
        "compute_jobs.html",
        jobs=found,
        chosen=chosen,
        states=list(JobState),
        algorithms={a.id: a for a in service.public_register(session)},
        names=accounts.org_names(session),
        titles=catalog.dataset_titles(
            session,
            ids={d for j in found for d in j.datasets} | {d for c in contracts for d in c.datasets},
        ),
        contracts=contracts,
        holdings=_holdings(session, actor),
        can=_frame(actor, ctx),
    )


def _submission(session: Session, actor: Actor, ctx: Context, contract_id: str) -> dict[str, Any]:
    """What the submission form shows for a contract: the filed algorithm it names, its
    current version and parameter schema with the schema's defaults, the contract's datasets
    the reader may compute on, and why it may not submit, when it may not."""
    contract = authorization.get_contract(session, actor, contract_id=contract_id)
    named = [
        a
        for a in service.list_algorithms(session, actor, status=FilingState.FILED)
        if jobs.names_algorithm(contract.algorithm, a)
    ]
    alg = named[0] if named else None
    terms = authorization.contract_resource(contract)
    usable = [
        d
        for d in contract.datasets
        if decide(
            actor,
            "contract.use",
            terms,
            {"operation": Operation.compute, "dataset_id": d, "uses": 0},
        ).allowed
    ]
    refusal: Message | None = None
    version, defaults = None, {}
    if alg is None:
        refusal = _(
            "the contract names no filed algorithm: {named}", named=contract.algorithm or "—"
        )
    else:
        version = service.version_by_hash(session, algorithm_id=alg.id, sha256=alg.sha256)
        properties = version.parameters.get("properties") or {}
        defaults = {
            key: spec["default"]
            for key, spec in properties.items()
            if isinstance(spec, dict) and "default" in spec
        }
        job, job_context, _approval = jobs.submission(
            session,
            actor,
            settings=ctx.settings,
            contract=contract,
            alg=alg,
            sha256=version.sha256,
            datasets=list(contract.datasets),
        )
        submit = decide(actor, "compute.submit", job, job_context)
        if not submit.allowed:
            refusal = submit.reason
        elif not usable:
            refusal = decide(
                actor,
                "contract.use",
                terms,
                {
                    "operation": Operation.compute,
                    "dataset_id": next(iter(contract.datasets)),
                    "uses": 0,
                },
            ).reason
    return {
        "contract": contract,
        "alg": alg,
        "version": version,
        "schema": _pretty(version.parameters) if version else "",
        "defaults": _pretty(defaults),
        "usable": usable,
        "refusal": refusal,
        "titles": catalog.dataset_titles(session, ids=list(contract.datasets)),
        "names": accounts.org_names(session),
    }


def _job_form(
    request: Request,
    actor: Actor,
    ctx: Context,
    *,
    shown: dict[str, Any],
    values: Mapping[str, Any],
    error: str | None = None,
    status: int = 200,
) -> Response:
    refusal = shown.pop("refusal")
    if error is None and refusal is not None:
        error = localise(refusal, locale(request))
    return render(
        request,
        actor,
        "compute_job_new.html",
        status=status,
        values=values,
        error=error,
        can=_frame(actor, ctx) | {"compute.submit": refusal is None},
        **shown,
    )


@router.get(f"{JOBS}/new")
def new_job_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    contract: Annotated[str, Query(max_length=40)],
) -> Response:
    """A job under a contract: the algorithm it names, run on its datasets, with parameters."""
    shown = _submission(session, actor, ctx, contract)
    return _job_form(request, actor, ctx, shown=shown, values={})


def _params(text: str) -> dict[str, Any]:
    """The parameters typed as a JSON object (empty: none), or where it stops being JSON."""
    if not text.strip():
        return {}
    try:
        found = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            problem=_(
                "the parameters are not valid JSON (line {line}, column {column})",
                line=exc.lineno,
                column=exc.colno,
            )
        ) from None
    if not isinstance(found, dict):
        raise InvalidInput(
            problem=_(
                "the parameters are a JSON object, such as {example}", example='{"months": 3}'
            )
        )
    return found


@router.post(f"{JOBS}/new")
def submit_form(
    request: Request,
    actor: PageActor,
    ctx: ContextDep,
    contract: Annotated[str, Form(max_length=40)] = "",
    algorithm: Annotated[str, Form(max_length=40)] = "",
    sha256: Annotated[str, Form(max_length=64)] = "",
    datasets: Annotated[list[str] | None, Form()] = None,
    params: Annotated[str, Form(max_length=64_000)] = "",
) -> Response:
    """Submits the job (in its own transaction, as the API does); a problem re-renders the
    form with what was typed."""
    chosen = [d[:40] for d in datasets or []][:20]
    values = {"datasets": chosen, "params": params}
    try:
        body = {
            "contract_id": contract,
            "algorithm_id": algorithm,
            "sha256": sha256 or None,
            "datasets": chosen or None,
            "params": _params(params),
        }
        job = jobs.run_submit(ctx, actor, data=_validated(JobCreate, body))
    except YaosuError as exc:
        if exc.status == 404:  # the contract or the algorithm is hidden: the error page
            raise
        audit_refusal(request, exc)
        with ctx.db.transaction() as session:  # closed before rendering: the frame reads too
            shown = _submission(session, actor, ctx, contract)
        return _job_form(
            request,
            actor,
            ctx,
            shown=shown,
            values=values,
            error=exc.message(locale(request)),
            status=exc.status,
        )
    return done(f"{JOBS}/{job.id}", "compute.submitted")


def _job_rights(actor: Actor, job: ComputeJob) -> dict[str, bool]:
    """The job page's forms, each when the job's state permits it and ``decide`` allows it."""
    res = jobs.resource(job)
    mine = any(a["org"] == actor.org_id and a["status"] == "waiting" for a in job.approvals)
    return {
        "compute.approve": job.status == JobState.AWAITING_APPROVAL
        and mine
        and decide(actor, "compute.approve", res).allowed,
        "compute.review": job.status == JobState.HELD
        and decide(actor, "compute.review", res).allowed,
        "compute.cancel": job.status in CANCELLABLE
        and decide(actor, "compute.cancel", res).allowed,
        "compute.download": job.status == JobState.RELEASED
        and decide(actor, "compute.download", res).allowed,
    }


def _localised(findings: Iterable[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Check findings with their message in the reader's language (stored in both, or, for
    the log's, in English only)."""
    return [dict(f, message=localise(f.get("message", ""), lang)) for f in findings]


def _status_context(request: Request, job: ComputeJob) -> dict[str, Any]:
    lang = locale(request)
    return {
        "job": job,
        "reason": localise(job.status_reason, lang) if job.status_reason else "",
        "active": job.status in JOB_ACTIVE,
        "moving": job.status in MOVING,
        "percent": round(job.progress * 100),
    }


@router.get(JOBS + "/{job_id}")
def job_page(
    request: Request,
    job_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    error: str | None = None,
) -> Response:
    """A job: its state and reason (its progress while it runs, polled), each provider's
    approval, the inputs the sandbox was given, the runtime, the sandbox's outcome, the
    output check's report, the checked log, the released outputs, who answers for what, and
    the forms of the provider, its reviewer and the submitter."""
    job = jobs.get_job(session, actor, job_id=job_id[:40])
    alg = service.get_algorithm(session, actor, algorithm_id=job.algorithm_id)
    lang = locale(request)
    check = dict(job.check or {})
    parts = jobs.responsibilities(session, job)
    people = {job.created_by, job.reviewed_by or ""} | {a.get("by") or "" for a in job.approvals}
    trusted_lists = {
        a["dataset"]
        for a in job.approvals
        if decide(actor, "algorithm.trusted", Resource("trusted", a["dataset"], a["org"])).allowed
    }
    return render(
        request,
        actor,
        "compute_job.html",
        alg=alg,
        approvals=[dict(a, at=_at(a.get("at"))) for a in job.approvals],
        findings=_localised(check.get("findings") or [], lang),
        log_findings=_localised(check.get("log") or [], lang),
        verdict=check.get("verdict"),
        checked=check.get("outputs") or [],
        review=check.get("review"),
        parts=parts,
        trusted_lists=trusted_lists,
        names=accounts.org_names(session),
        titles=catalog.dataset_titles(session, ids=job.datasets),
        users=accounts.user_names(session, ids=people - {""}),
        params=_pretty(job.params),
        error=error,
        can=_frame(actor, ctx) | _job_rights(actor, job),
        **_status_context(request, job),
    )


@router.get(JOBS + "/{job_id}/status")
def job_status_fragment(
    request: Request,
    job_id: str,
    actor: PageActor,
    session: SessionDep,
    shown: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The job's state and progress, for the job page's polling (htmx, every 2 s while the
    job is active). Once the state differs from the one the page shows, the answer asks htmx
    to reload the page (``HX-Refresh``): the new state brings its own sections and forms."""
    job = jobs.get_job(session, actor, job_id=job_id[:40])
    answer = render(request, actor, "compute_job_status.html", **_status_context(request, job))
    if request.headers.get("hx-request") and shown and shown != job.status:
        answer.headers["HX-Refresh"] = "true"
    return answer


def _job_back(job_id: str) -> str:
    return f"{JOBS}/{job_id}"


@router.post(JOBS + "/{job_id}/approval")
def approval_form(
    request: Request,
    job_id: str,
    actor: PageActor,
    session: SessionDep,
    decision: Annotated[str, Form(max_length=8)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    trust: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """The data's provider approves the algorithm's code for its datasets in the job (and,
    ticked, trusts its hash from now on) or refuses it with the reason."""
    back = _job_back(job_id[:40])
    try:
        body = _validated(
            JobDecision, {"decision": decision, "reason": reason, "trust": trust == "yes"}
        )
        with session.begin_nested():
            jobs.decide_approval(
                session,
                actor,
                job_id=job_id[:40],
                approve=body.decision == "approve",
                reason=body.reason,
                trust=body.trust,
            )
    except YaosuError as exc:
        if exc.status == 404:
            raise
        return back_with_error(request, back, exc, session=session)
    return done(back, "compute.decided")


@router.post(JOBS + "/{job_id}/review")
def review_form(
    request: Request,
    job_id: str,
    actor: PageActor,
    session: SessionDep,
    decision: Annotated[str, Form(max_length=8)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The provider's reviewer releases or rejects the held outputs, with the reason."""
    back = _job_back(job_id[:40])
    try:
        body = _validated(ReviewDecision, {"decision": decision, "reason": reason})
        with session.begin_nested():
            jobs.review(
                session,
                actor,
                job_id=job_id[:40],
                release=body.decision == "release",
                reason=body.reason,
            )
    except YaosuError as exc:
        if exc.status == 404:
            raise
        return back_with_error(request, back, exc, session=session)
    return done(back, "compute.reviewed")


@router.post(JOBS + "/{job_id}/cancel")
def cancel_form(request: Request, job_id: str, actor: PageActor, session: SessionDep) -> Response:
    """The submitter (or the consumer's administrator) cancels the job before its outputs
    are checked."""
    back = _job_back(job_id[:40])
    try:
        with session.begin_nested():
            jobs.cancel(session, actor, job_id=job_id[:40])
    except YaosuError as exc:
        if exc.status == 404:
            raise
        return back_with_error(request, back, exc, session=session)
    return done(back, "compute.cancelled")
