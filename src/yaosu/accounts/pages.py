"""Console pages of the accounts domain: log in and out, the organisation, API tokens."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from yaosu.accounts import credentials, service
from yaosu.accounts.models import ConsoleSession
from yaosu.authorization.policy import Resource, decide
from yaosu.console.render import render, safe_next
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import CsrfFailed, YaosuError
from yaosu.web.deps import (
    ANONYMOUS,
    SESSION_COOKIE,
    ContextDep,
    OptionalActor,
    PageActor,
    SessionDep,
    client_address,
    locale,
)
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "yaosu_login_csrf"  # double-submit token: there is no session yet to hold one


@router.get("/login")
def login_page(request: Request, actor: OptionalActor, next: str | None = None) -> Response:
    if actor is not ANONYMOUS:
        return RedirectResponse(safe_next(next), status_code=303)
    token = secrets.token_urlsafe(24)
    response = render(
        request, actor, "login.html", next=safe_next(next), login_csrf=token, error=None
    )
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login")
def login_submit(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    login_csrf: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=500)] = "/home",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF, "")
    error: YaosuError | None = None
    if not cookie or not hmac.compare_digest(cookie, login_csrf):
        error = CsrfFailed()
    else:
        with ctx.db.transaction() as session:  # commits a failure's count and audit entry
            outcome = credentials.attempt_login(
                session,
                settings=ctx.settings,
                username=username,
                password=password,
                address=client_address(request),
            )
        if isinstance(outcome, YaosuError):
            error = outcome
        else:
            _session, secret, _ = outcome
    if error is not None:
        token = secrets.token_urlsafe(24)
        response = render(
            request,
            ANONYMOUS,
            "login.html",
            status=error.status,
            next=safe_next(next),
            login_csrf=token,
            error=error.message(locale(request)),
            username=username,
        )
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", max_age=3600)
        if "retry_after" in error.detail:
            response.headers["Retry-After"] = str(error.detail["retry_after"])
        return response
    redirect = RedirectResponse(safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=ctx.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )
    redirect.delete_cookie(LOGIN_CSRF)
    return redirect


@router.post("/logout")
def logout(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    console_id = getattr(request.state, "console_session_id", None)
    if actor is not ANONYMOUS and console_id:
        console = session.get(ConsoleSession, console_id)
        if console is not None:
            credentials.logout(session, actor, console=console)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/org")
def org_page(
    request: Request, actor: PageActor, session: SessionDep, created: str | None = None
) -> Response:
    org = service.get_org(session, org_id=actor.org_id or "")
    members = service.list_members(session, actor, org_id=org.id)
    return render(
        request,
        actor,
        "org.html",
        org=org,
        members=members,
        created=created,
        error=None,
        can=_can(actor, org.id),
    )


def _can(actor: Actor, org_id: str) -> dict[str, bool]:
    manage = decide(actor, "org.manage", Resource("organisation", org_id, org_id))
    return {"org.manage": manage.allowed}


@router.post("/org/members")
def add_member(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    role: Annotated[str, Form(max_length=20)] = "member",
    display_name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        with session.begin_nested():  # a refusal rolls back to here; the page still renders
            user = service.create_user(
                session,
                actor,
                org_id=actor.org_id or "",
                username=username,
                password=password,
                role=role,
                display_name=display_name or None,
            )
    except YaosuError as exc:
        audit_refusal(request, exc, session)
        org = service.get_org(session, org_id=actor.org_id or "")
        members = service.list_members(session, actor, org_id=org.id)
        return render(
            request,
            actor,
            "org.html",
            status=exc.status,
            org=org,
            members=members,
            created=None,
            error=exc.message(locale(request)),
            can=_can(actor, org.id),
        )
    return RedirectResponse(f"/org?created={user.username}", status_code=303)


@router.get("/tokens")
def tokens_page(request: Request, actor: PageActor, session: SessionDep) -> Response:
    return render(
        request,
        actor,
        "tokens.html",
        tokens=credentials.list_tokens(session, actor),
        secret=None,
        error=None,
    )


@router.post("/tokens")
def create_token(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    name: Annotated[str, Form(max_length=100)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[int, Form(ge=1, le=366)] = 90,
) -> Response:
    try:
        with session.begin_nested():
            _, secret = credentials.create_token(
                session, actor, name=name, scopes=scopes or ["read"], days=days
            )
    except YaosuError as exc:
        audit_refusal(request, exc, session)
        return render(
            request,
            actor,
            "tokens.html",
            status=exc.status,
            tokens=credentials.list_tokens(session, actor),
            secret=None,
            error=exc.message(locale(request)),
        )
    # The secret is shown on this one response and never again.
    return render(
        request,
        actor,
        "tokens.html",
        tokens=credentials.list_tokens(session, actor),
        secret=secret,
        error=None,
    )


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: str, request: Request, actor: PageActor, session: SessionDep
) -> Response:
    credentials.revoke_token(session, actor, token_id=token_id)
    return RedirectResponse("/tokens", status_code=303)
