"""HTTP routes of the accounts domain."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from yaosu.accounts import credentials, service
from yaosu.accounts.models import ConsoleSession, Organisation, User
from yaosu.accounts.schemas import (
    LoginIn,
    Me,
    OrgCreate,
    OrgPublic,
    OrgsPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    TokensPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
)
from yaosu.kernel.errors import YaosuError
from yaosu.web.deps import SESSION_COOKIE, ContextDep, CurrentActor, SessionDep, client_address

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/login", response_model=Me)
def login(body: LoginIn, request: Request, response: Response, ctx: ContextDep) -> Me:
    # Its own transaction, committed before a refusal is raised: the failure count and the
    # deny entry must survive the refusal (see accounts.throttle).
    with ctx.db.transaction() as session:
        outcome = credentials.attempt_login(
            session,
            settings=ctx.settings,
            username=body.username,
            password=body.password,
            address=client_address(request),
        )
        if not isinstance(outcome, YaosuError):
            console, secret, actor = outcome
            user = session.get(User, actor.id)
            assert user is not None
            me = Me(
                user=UserPublic.model_validate(user),
                org=OrgPublic.model_validate(service.get_org(session, org_id=user.org_id)),
                csrf_token=console.csrf_token,
                via="session",
            )
    if isinstance(outcome, YaosuError):
        raise outcome
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=ctx.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )
    return me


@router.post("/auth/logout", status_code=204)
def logout(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    console_id = getattr(request.state, "console_session_id", None)
    if console_id:
        console = session.get(ConsoleSession, console_id)
        if console is not None:
            credentials.logout(session, actor, console=console)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
def me(request: Request, actor: CurrentActor, session: SessionDep) -> Me:
    user = session.get(User, actor.id)
    assert user is not None
    console_id = getattr(request.state, "console_session_id", None)
    console = session.get(ConsoleSession, console_id) if console_id else None
    return Me(
        user=UserPublic.model_validate(user),
        org=OrgPublic.model_validate(service.get_org(session, org_id=user.org_id)),
        csrf_token=console.csrf_token if console else None,
        via=actor.via,
    )


@router.get("/orgs", response_model=OrgsPublic)
def list_orgs(actor: CurrentActor, session: SessionDep) -> OrgsPublic:
    """Organisations are public parties of the exchange: every account sees the register."""
    orgs = list(session.scalars(select(Organisation).order_by(Organisation.name)))
    return OrgsPublic(items=[OrgPublic.model_validate(o) for o in orgs], total=len(orgs))


@router.post("/orgs", response_model=OrgPublic, status_code=201)
def create_org(body: OrgCreate, actor: CurrentActor, session: SessionDep) -> OrgPublic:
    org = service.create_org(session, actor, **body.model_dump())
    return OrgPublic.model_validate(org)


@router.get("/orgs/{org_id}", response_model=OrgPublic)
def get_org(org_id: str, actor: CurrentActor, session: SessionDep) -> OrgPublic:
    return OrgPublic.model_validate(service.get_org(session, org_id=org_id))


@router.get("/orgs/{org_id}/members", response_model=UsersPublic)
def members(org_id: str, actor: CurrentActor, session: SessionDep) -> UsersPublic:
    users = service.list_members(session, actor, org_id=org_id)
    return UsersPublic(items=[UserPublic.model_validate(u) for u in users], total=len(users))


@router.post("/orgs/{org_id}/members", response_model=UserPublic, status_code=201)
def add_member(
    org_id: str, body: UserCreate, actor: CurrentActor, session: SessionDep
) -> UserPublic:
    user = service.create_user(session, actor, org_id=org_id, **body.model_dump())
    return UserPublic.model_validate(user)


@router.get("/tokens", response_model=TokensPublic)
def tokens(actor: CurrentActor, session: SessionDep) -> TokensPublic:
    items = credentials.list_tokens(session, actor)
    return TokensPublic(items=[TokenPublic.model_validate(t) for t in items], total=len(items))


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenCreate, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> TokenCreated:
    days = body.days or ctx.settings.token_days_default
    token, secret = credentials.create_token(
        session, actor, name=body.name, scopes=body.scopes, days=days
    )
    return TokenCreated(**TokenPublic.model_validate(token).model_dump(), secret=secret)


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(token_id: str, actor: CurrentActor, session: SessionDep) -> TokenPublic:
    return TokenPublic.model_validate(credentials.revoke_token(session, actor, token_id=token_id))
