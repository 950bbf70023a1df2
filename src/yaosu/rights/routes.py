"""HTTP routes of the rights domain: apply, the authority's steps, objections, certificates."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from yaosu.audit.verify import VerificationError
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import _
from yaosu.rights import certify, service
from yaosu.rights.models import Grant, Registration
from yaosu.rights.schemas import (
    ApplicationCreate,
    CertificateFile,
    GrantPublic,
    ObjectionCreate,
    ObjectionPublic,
    RegistrationPublic,
    Resolution,
    Step,
    Verdict,
)
from yaosu.web.deps import ContextDep, CurrentActor, OptionalActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["rights"])


def registration_public(session: Session, reg: Registration) -> RegistrationPublic:
    out = RegistrationPublic.model_validate(reg)
    grant = session.get(Grant, reg.grant_id)
    out.grant = GrantPublic.model_validate(grant) if grant else None
    out.objections = [
        ObjectionPublic.model_validate(o)
        for o in service.objections_of(session, registration_id=reg.id)
    ]
    return out


@router.post("/registrations", response_model=RegistrationPublic, status_code=201)
def apply(
    body: ApplicationCreate, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> RegistrationPublic:
    """Apply to register a right: an original right of your dataset, or (``parent_id``) a
    licence or transfer of a right you hold, within its scope."""
    reg = service.apply(session, actor, settings=ctx.settings, **body.model_dump())
    return registration_public(session, reg)


@router.get("/registrations", response_model=list[RegistrationPublic])
def registrations(actor: CurrentActor, session: SessionDep) -> list[RegistrationPublic]:
    """Registrations you may see: your organisation's applications and those of rights it
    holds, every published one (in notice, registered or rejected), and for the platform and
    regulators all."""
    return [registration_public(session, r) for r in service.list_registrations(session, actor)]


@router.get("/registrations/{registration_id}", response_model=RegistrationPublic)
def registration(
    registration_id: str, actor: OptionalActor, session: SessionDep
) -> RegistrationPublic:
    return registration_public(
        session, service.get_registration(session, actor, registration_id=registration_id)
    )


@router.post("/registrations/{registration_id}/steps", response_model=RegistrationPublic)
def step(
    registration_id: str, body: Step, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> RegistrationPublic:
    """The registration authority: ``accept`` (受理), then the formal review ``pass`` (opens the
    public notice window) or ``fail`` (rejects), with a note."""
    if body.action == "accept":
        reg = service.accept(
            session, actor, settings=ctx.settings, registration_id=registration_id, note=body.note
        )
    else:
        reg = service.formal_review(
            session,
            actor,
            settings=ctx.settings,
            registration_id=registration_id,
            passed=body.action == "pass",
            note=body.note,
        )
    return registration_public(session, reg)


@router.post(
    "/registrations/{registration_id}/objections", response_model=ObjectionPublic, status_code=201
)
def object_to(
    registration_id: str, body: ObjectionCreate, actor: CurrentActor, session: SessionDep
) -> ObjectionPublic:
    """Object during the notice window (any organisation but the applicant); it blocks
    registration until the authority resolves it."""
    return ObjectionPublic.model_validate(
        service.object_to(session, actor, registration_id=registration_id, reason=body.reason)
    )


@router.post("/objections/{objection_id}/resolution", response_model=ObjectionPublic)
def resolve(
    objection_id: str, body: Resolution, actor: CurrentActor, session: SessionDep
) -> ObjectionPublic:
    """The authority upholds (the registration is rejected) or dismisses an objection."""
    done = service.resolve(
        session, actor, objection_id=objection_id, upheld=body.upheld, resolution=body.resolution
    )
    return ObjectionPublic.model_validate(done)


@router.post(
    "/registrations/{registration_id}/certificate", response_model=CertificateFile, status_code=201
)
def issue(
    registration_id: str, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> CertificateFile:
    """After the notice window, with no open objection: the registration code and the signed
    certificate; the right becomes active."""
    cert = service.issue(session, actor, settings=ctx.settings, registration_id=registration_id)
    return CertificateFile(**service.certificate_file(cert))


@router.get("/notices", response_model=list[RegistrationPublic])
def notices(
    actor: OptionalActor, session: SessionDep, closed: bool = False
) -> list[RegistrationPublic]:
    """The public notice board (公示): registrations open to objection (``closed=true``: also
    those decided)."""
    return [
        registration_public(session, r) for r in service.notices(session, include_closed=closed)
    ]


@router.get("/rights", response_model=list[GrantPublic])
def rights(
    actor: OptionalActor, session: SessionDep, holder: str | None = None, dataset: str | None = None
) -> list[GrantPublic]:
    """Rights, filtered by holder or dataset (registered rights are public)."""
    found = service.list_grants(session, actor, holder_org_id=holder, dataset_id=dataset)
    return [GrantPublic.model_validate(g) for g in found]


@router.get("/rights/{grant_id}/chain", response_model=list[GrantPublic])
def chain(grant_id: str, actor: OptionalActor, session: SessionDep) -> list[GrantPublic]:
    """The chain of title, from the original right down to this one."""
    grant = service.get_grant(session, actor, grant_id=grant_id)
    return [GrantPublic.model_validate(g) for g in service.chain(session, grant=grant)]


@router.get("/certificates/key")
def certificate_key(ctx: ContextDep) -> dict[str, str]:
    """The verifier key that checks every certificate (pin it)."""
    return {"key": service.certificate_signer(ctx.settings).verifier_key()}


@router.get("/certificates/{code}", response_model=CertificateFile)
def certificate(code: str, actor: OptionalActor, session: SessionDep) -> CertificateFile:
    cert = service.find_certificate(session, code=code)
    if cert is None:
        raise NotFound(kind=_("Certificate"), id=code)
    return CertificateFile(**service.certificate_file(cert))


@router.post("/certificates/verify", response_model=Verdict)
def verify(body: CertificateFile, session: SessionDep, ctx: ContextDep) -> Verdict:
    """Check a certificate against the platform's key, and say what its registration's
    status is now."""
    trusted = service.certificate_signer(ctx.settings).verifier_key()
    try:
        document = certify.check(body.model_dump(), trusted)
    except VerificationError as exc:
        return Verdict(valid=False, problem=str(exc), document=None, status=None)
    cert = service.find_certificate(session, code=str(document.get("code")))
    status = None
    if cert is not None:
        reg = session.get(Registration, cert.registration_id)
        grant = session.get(Grant, reg.grant_id) if reg else None
        status = grant.status if grant else None
    return Verdict(valid=True, problem=None, document=document, status=status)
