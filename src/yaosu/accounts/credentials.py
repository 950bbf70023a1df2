"""Accounts: how an actor is recognised: API tokens (a bearer secret) and console sessions
(a login, its cookie and CSRF token, and its end)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts import throttle
from yaosu.accounts.models import (
    ApiToken,
    ConsoleSession,
    User,
)
from yaosu.accounts.service import SCOPES, TOKEN_PREFIX, actor_for, authenticate
from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, enforce
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import (
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    LoginThrottled,
    NotFound,
    YaosuError,
)
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings

# --- API tokens ----------------------------------------------------------------------------
# Tokens carry 256 random bits, so a plain SHA-256 is the right storage hash: Argon2's
# deliberate slowness protects guessable passwords, and would only slow every API call here.


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii", "replace")).hexdigest()


def create_token(
    session: Session,
    actor: Actor,
    *,
    name: str,
    scopes: Iterable[str] = ("read",),
    days: int = 90,
) -> tuple[ApiToken, str]:
    """Returns the stored token and its secret; the secret is shown once and never stored."""
    if actor.org_id is None or actor.id.startswith("system:"):
        raise InvalidInput(problem=_("a token belongs to a user"))
    scopes = sorted(set(scopes))
    bad = [s for s in scopes if s not in SCOPES]
    if not scopes or bad:
        raise InvalidInput(
            problem=_("invalid scopes: {value}", value=bad or scopes), allowed=SCOPES
        )
    if actor.scopes is not None and not set(scopes) <= actor.scopes:
        raise InvalidInput(problem=_("a token cannot widen its own scopes"))
    if not 1 <= days <= 366:
        raise InvalidInput(problem=_("expiry must be 1-366 days"))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=new_id("tok"),
        user_id=actor.id,
        name=name.strip() or "token",
        prefix=secret[:10],
        token_hash=_digest(secret),
        scopes=scopes,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor,
        action="token.create",
        object_type="token",
        object_id=token.id,
        object_org_id=actor.org_id,
        request={"name": token.name, "scopes": scopes, "days": days},
    )
    return token, secret


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.created_at.desc())
    return list(session.scalars(stmt))


def revoke_token(session: Session, actor: Actor, *, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(kind=_("API token"), id=token_id)
    if token.user_id != actor.id:
        owner = session.get(User, token.user_id)
        org_id = owner.org_id if owner else None
        enforce(actor, "org.manage", Resource("organisation", org_id or "?", org_id))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(
            session,
            actor,
            action="token.revoke",
            object_type="token",
            object_id=token.id,
            object_org_id=actor.org_id,
        )
    return token


def actor_from_token(session: Session, *, secret: str) -> Actor:
    if not secret.startswith(TOKEN_PREFIX):
        raise InvalidToken()
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise InvalidToken()
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise InvalidToken()
    # Written at most once a minute: a busy client must not turn every call into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return actor_for(
        session, user=user, scopes=frozenset(token.scopes), via="token", token_id=token.id
    )


# --- console sessions ----------------------------------------------------------------------


def attempt_login(
    session: Session, *, settings: Settings, username: str, password: str, address: str | None
) -> tuple[ConsoleSession, str, Actor] | YaosuError:
    """A login through any door, throttled per account and per address (see
    ``yaosu.accounts.throttle``). A refusal is returned, not raised, so the caller commits
    its failure count and its one deny audit entry before answering."""
    found = throttle.keys(username, address)
    wait = throttle.retry_after(session, found=found)
    if wait is not None:  # locked: the password is not even checked
        return _refuse_login(session, username, LoginThrottled(retry_after=wait), throttled=True)
    try:
        return login(
            session, username=username, password=password, hours=settings.session_hours, keys=found
        )
    except InvalidCredentials as exc:
        wait = throttle.fail(session, settings=settings, found=found)
        error: YaosuError = LoginThrottled(retry_after=wait) if wait is not None else exc
        return _refuse_login(session, username, error, throttled=False)


def _refuse_login(
    session: Session, username: str, error: YaosuError, *, throttled: bool
) -> YaosuError:
    user = session.scalar(select(User).where(User.username == username))
    record(
        session,
        Actor(id="anonymous", username="anonymous", org_id=None),
        action="session.login",
        object_type="user",
        object_id=user.id if user is not None else "unknown",
        object_org_id=user.org_id if user is not None else None,
        allowed=False,
        reason=error.message("en"),
        detail={"error": error.code, "throttled": throttled},
    )
    return error


def login(
    session: Session,
    *,
    username: str,
    password: str,
    hours: int = 12,
    keys: throttle.Keys | None = None,
) -> tuple[ConsoleSession, str, Actor]:
    """Checks the password and opens a console session; returns it, its cookie secret, the
    actor. Not throttled by itself: requests from users go through ``attempt_login``."""
    user = authenticate(session, username=username, password=password)
    if keys is not None:
        throttle.succeed(session, found=keys)
    secret = secrets.token_urlsafe(32)
    console = ConsoleSession(
        id=new_id("ses"),
        user_id=user.id,
        session_hash=_digest(secret),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(console)
    session.flush()
    actor = actor_for(session, user=user)
    record(
        session,
        actor,
        action="session.login",
        object_type="user",
        object_id=user.id,
        object_org_id=user.org_id,
    )
    return console, secret, actor


def session_actor(session: Session, *, secret: str) -> tuple[ConsoleSession, Actor] | None:
    console = session.scalar(
        select(ConsoleSession).where(ConsoleSession.session_hash == _digest(secret))
    )
    if console is None or console.ended_at is not None or console.expires_at <= utcnow():
        return None
    user = session.get(User, console.user_id)
    if user is None or not user.is_active:
        return None
    return console, actor_for(session, user=user)


def check_csrf(console: ConsoleSession, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(console.csrf_token, presented)


def logout(session: Session, actor: Actor, *, console: ConsoleSession) -> None:
    console.ended_at = utcnow()
    record(
        session,
        actor,
        action="session.logout",
        object_type="user",
        object_id=actor.id,
        object_org_id=actor.org_id,
    )
