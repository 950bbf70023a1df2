"""Console pages of the rights domain: my rights and applications, a registration with its
notice and objections, the public notice board, certificates and their verification."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.verify import VerificationError
from yaosu.authorization.policy import decide
from yaosu.authorization.service import list_purposes
from yaosu.catalog import service as catalog
from yaosu.console.render import back_with_error, done, render
from yaosu.kernel.errors import InvalidInput, NotFound, YaosuError
from yaosu.kernel.i18n import _
from yaosu.rights import certify, service
from yaosu.rights.models import Grant, Objection, Registration
from yaosu.web.deps import ContextDep, OptionalActor, PageActor, SessionDep

router = APIRouter(include_in_schema=False)


def _names(session: Session) -> dict[str, str]:
    return accounts.org_names(session)


def _titles(session: Session) -> dict[str, str]:
    return catalog.dataset_titles(session)


@router.get("/rights")
def rights_page(
    request: Request, actor: PageActor, session: SessionDep, error: str | None = None
) -> Response:
    mine = service.list_grants(session, actor, holder_org_id=actor.org_id) if actor.org_id else []
    own = (
        catalog.list_datasets(session, actor, provider=actor.org_id, limit=200).items
        if actor.org_id
        else []
    )
    return render(
        request,
        actor,
        "rights.html",
        grants=mine,
        registrations=service.list_registrations(session, actor),
        datasets=own,
        active=[g for g in mine if g.status == "active"],
        orgs=accounts.list_orgs(session),
        names=_names(session),
        titles=_titles(session),
        error=error,
    )


@router.post("/rights/apply")
def apply(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    kind: Annotated[str, Form(max_length=12)] = "holding",
    dataset: Annotated[str, Form(max_length=40)] = "",
    parent: Annotated[str, Form(max_length=40)] = "",
    holder: Annotated[str, Form(max_length=40)] = "",
    transfer: Annotated[str, Form(max_length=4)] = "",
    purposes: Annotated[str, Form(max_length=500)] = "",
    years: Annotated[int, Form(ge=1, le=30)] = 3,
    statement: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        if parent:
            grant = session.get(Grant, parent)
            if grant is None:
                raise NotFound(kind=_("Right"), id=parent)
            dataset = grant.object_id
        if not dataset:
            raise InvalidInput(problem=_("choose a dataset"))
        with session.begin_nested():
            reg = service.apply(
                session,
                actor,
                settings=ctx.settings,
                kind=kind,
                dataset_id=dataset,
                statement=statement,
                parent_id=parent or None,
                holder_org_id=holder or None,
                transfer=transfer == "yes",
                purposes=[p.strip() for p in purposes.replace("，", ",").split(",") if p.strip()],
                years=years,
            )
    except YaosuError as exc:
        return back_with_error(request, "/rights", exc, session=session)
    return done(f"/registrations/{reg.id}", "rights.applied")


@router.get("/registrations/{registration_id}")
def registration_page(
    request: Request,
    registration_id: str,
    actor: OptionalActor,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    reg = service.get_registration(session, actor, registration_id=registration_id)
    grant = session.get(Grant, reg.grant_id)
    resource = service.registration_resource(session, reg=reg)
    certificate = service.find_certificate(session, code=reg.code) if reg.code else None
    return render(
        request,
        actor,
        "registration.html",
        reg=reg,
        grant=grant,
        links=service.chain(session, grant=grant) if grant else [],
        objections=service.objections_of(session, registration_id=reg.id),
        certificate=certificate,
        names=_names(session),
        titles=_titles(session),
        purposes={p.code: p for p in list_purposes(session, include_retired=True)},
        can={
            "registration.decide": decide(actor, "registration.decide", resource).allowed,
            "registration.object": reg.status == "in_notice"
            and decide(actor, "registration.object", resource).allowed,
        },
        error=error,
    )


@router.post("/registrations/{registration_id}/step")
def step(
    request: Request,
    registration_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    action: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    target = f"/registrations/{registration_id}"
    try:
        with session.begin_nested():
            if action == "accept":
                reg = service.accept(
                    session,
                    actor,
                    settings=ctx.settings,
                    registration_id=registration_id,
                    note=note,
                )
            elif action in ("pass", "fail"):
                reg = service.formal_review(
                    session,
                    actor,
                    settings=ctx.settings,
                    registration_id=registration_id,
                    passed=action == "pass",
                    note=note,
                )
            elif action == "issue":
                service.issue(
                    session, actor, settings=ctx.settings, registration_id=registration_id
                )
                reg = service.get_registration(session, actor, registration_id=registration_id)
            else:
                raise InvalidInput(problem=_("unknown action"))
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    return done(target, f"registration.{reg.status}")


@router.post("/registrations/{registration_id}/object")
def object_to(
    request: Request,
    registration_id: str,
    actor: PageActor,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    target = f"/registrations/{registration_id}"
    try:
        with session.begin_nested():
            service.object_to(session, actor, registration_id=registration_id, reason=reason)
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    return done(target, "objection.filed")


@router.post("/objections/{objection_id}/resolve")
def resolve(
    request: Request,
    objection_id: str,
    actor: PageActor,
    session: SessionDep,
    upheld: Annotated[str, Form(max_length=4)] = "",
    resolution: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    objection = session.get(Objection, objection_id)
    target = f"/registrations/{objection.registration_id}" if objection else "/notices"
    try:
        if upheld not in ("yes", "no"):  # no default: dismissing is a decision too
            raise InvalidInput(problem=_("choose whether to uphold or dismiss the objection"))
        with session.begin_nested():
            service.resolve(
                session,
                actor,
                objection_id=objection_id,
                upheld=upheld == "yes",
                resolution=resolution,
            )
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    return done(target, "objection.resolved")


@router.get("/notices")
def notices(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """The public notice board (公示): open to everyone, signed in or not."""
    found = service.notices(session, include_closed=True)
    grants = {r.id: session.get(Grant, r.grant_id) for r in found}
    return render(
        request,
        actor,
        "notices.html",
        open_ones=[r for r in found if r.status == "in_notice"],
        closed=[r for r in found if r.status != "in_notice"][:30],
        grants=grants,
        names=_names(session),
        titles=_titles(session),
    )


@router.get("/certificates/verify")
def verify_page(request: Request, actor: OptionalActor, ctx: ContextDep) -> Response:
    key = service.certificate_signer(ctx.settings).verifier_key()
    return render(request, actor, "verify.html", key=key, verdict=None, problem=None, text="")


@router.post("/certificates/verify")
def verify(
    request: Request,
    actor: OptionalActor,
    session: SessionDep,
    ctx: ContextDep,
    certificate: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Public: paste a certificate, get a verdict (signature, validity, the right's status now)."""
    key = service.certificate_signer(ctx.settings).verifier_key()
    verdict, problem, status = None, None, None
    try:
        doc = json.loads(certificate)
        verdict = certify.check(doc, key)
        found = service.find_certificate(session, code=str(verdict.get("code")))
        if found is not None:
            reg = session.get(Registration, found.registration_id)
            grant = session.get(Grant, reg.grant_id) if reg else None
            status = grant.status if grant else None
    except ValueError as exc:
        problem = f"JSON: {exc}"
    except VerificationError as exc:
        problem = str(exc)
    return render(
        request,
        actor,
        "verify.html",
        key=key,
        verdict=verdict,
        problem=problem,
        state=status,
        text=certificate,
    )


@router.get("/certificates/{code}")
def certificate_page(
    request: Request, code: str, actor: OptionalActor, session: SessionDep, ctx: ContextDep
) -> Response:
    cert = service.find_certificate(session, code=code)
    if cert is None:
        raise NotFound(kind=_("Certificate"), id=code)
    text = json.dumps(service.certificate_file(cert), ensure_ascii=False, indent=2)
    return render(
        request,
        actor,
        "certificate.html",
        cert=cert,
        doc=cert.document,
        parts=cert.document.get("responsibilities") or [],  # as signed; none before they were
        text=text,
    )
