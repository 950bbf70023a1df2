"""Accounts: organisations, users, passwords, API tokens and console sessions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yaosu.accounts import responsibility
from yaosu.accounts.models import (
    DEPARTMENTS,
    Organisation,
    OrgKind,
    Role,
    User,
)
from yaosu.accounts.schemas import OrgPublic, UserPublic
from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, enforce
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import (
    Conflict,
    InvalidCredentials,
    InvalidInput,
    NotFound,
)
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id

_hasher = PasswordHasher()
TOKEN_PREFIX = "ys_"
SCOPES = ("read", "write", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")


# --- organisations and users ---------------------------------------------------------------


def create_org(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kinds: Iterable[str],
    department: str | None = None,
    uscc: str | None = None,
) -> Organisation:
    enforce(actor, "org.manage", Resource("organisation", "new"))  # scopes too, for everyone
    kinds = sorted(set(kinds))
    if not name.strip():
        raise InvalidInput(problem=_("organisation name is empty"))
    bad = [k for k in kinds if k not in OrgKind.__members__]
    if not kinds or bad:
        raise InvalidInput(
            problem=_("invalid organisation kinds: {value}", value=bad or kinds),
            allowed=list(OrgKind.__members__),
        )
    if "regulator" in kinds and not department:
        raise InvalidInput(
            problem=_("a regulator needs a department"),
            examples=list(DEPARTMENTS),
        )
    if uscc:
        from stdnum.cn import uscc as uscc_check
        from stdnum.exceptions import ValidationError

        try:
            uscc = uscc_check.validate(uscc)
        except ValidationError as exc:
            raise InvalidInput(
                problem=_("invalid unified social credit code: {uscc}", uscc=uscc)
            ) from exc
    if session.scalar(select(Organisation.id).where(Organisation.name == name)):
        raise Conflict(what=_("Organisation account"), value=name)
    org = Organisation(
        id=new_id("org"), name=name.strip(), kinds=kinds, department=department, uscc=uscc
    )
    session.add(org)
    session.flush()
    record(
        session,
        actor,
        action="org.create",
        object_type="organisation",
        object_id=org.id,
        object_org_id=org.id,
        request={"name": name, "kinds": kinds, "department": department},
    )
    return org


def get_org(session: Session, *, org_id: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(kind=_("Organisation account"), id=org_id)
    return org


def create_user(
    session: Session,
    actor: Actor,
    *,
    org_id: str,
    username: str,
    password: str,
    role: str = "member",
    display_name: str | None = None,
) -> User:
    org = get_org(session, org_id=org_id)
    enforce(actor, "org.manage", Resource("organisation", org.id, org.id))
    if not USERNAME.match(username):
        raise InvalidInput(problem=_("username must be 3-64 of A-Z a-z 0-9 _.-"))
    if role not in Role.__members__:
        raise InvalidInput(
            problem=_("invalid role: {role}", role=role), allowed=list(Role.__members__)
        )
    if len(password) < 10:
        raise InvalidInput(problem=_("password needs at least 10 characters"))
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(what=_("Username"), value=username)
    user = User(
        id=new_id("usr"),
        org_id=org.id,
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
        role=role,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        object_org_id=org.id,
        request={"org_id": org.id, "username": username, "role": role},
    )
    return user


def list_members(session: Session, actor: Actor, *, org_id: str) -> list[User]:
    org = get_org(session, org_id=org_id)
    enforce(actor, "org.view", Resource("organisation", org.id, org.id))
    return list(session.scalars(select(User).where(User.org_id == org.id).order_by(User.username)))


def actor_for(session: Session, *, user: User, **kw: object) -> Actor:
    org = get_org(session, org_id=user.org_id)
    return Actor(
        id=user.id,
        username=user.username,
        org_id=org.id,
        org_kinds=frozenset(org.kinds),
        department=org.department,
        role=user.role,
        **kw,  # type: ignore[arg-type]
    )


def active_actor(session: Session, *, user_id: str, **kw: object) -> Actor | None:
    """The user as they are now, as an actor; None when the user is gone or deactivated."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return actor_for(session, user=user, **kw)


# --- what other domains read: plain data, never rows -----------------------------------------


def org_names(session: Session, *, ids: Iterable[str] | None = None) -> dict[str, str]:
    """Organisation names by id, in name order: every organisation's, or those of ``ids``."""
    stmt = select(Organisation.id, Organisation.name).order_by(Organisation.name)
    if ids is not None:
        stmt = stmt.where(Organisation.id.in_(set(ids)))
    return {org_id: name for org_id, name in session.execute(stmt)}


def user_names(session: Session, *, ids: Iterable[str]) -> dict[str, str]:
    """Users' display names (their usernames when they have none) by id, for those of ``ids``
    that exist: what a page shows instead of a user id."""
    wanted = set(ids)
    if not wanted:
        return {}
    stmt = select(User.id, User.display_name, User.username).where(User.id.in_(wanted))
    return {user_id: shown or username for user_id, shown, username in session.execute(stmt)}


def find_org(session: Session, *, org_id: str | None) -> OrgPublic | None:
    org = session.get(Organisation, org_id) if org_id else None
    return OrgPublic.model_validate(org) if org is not None else None


def list_orgs(session: Session) -> list[OrgPublic]:
    """Every organisation, in name order (organisations are public: 主体公示)."""
    stmt = select(Organisation).order_by(Organisation.name)
    return [OrgPublic.model_validate(o) for o in session.scalars(stmt)]


def platform_org_id(session: Session) -> str:
    """The platform's organisation (the operator of the exchange)."""
    for org in list_orgs(session):
        if "platform" in org.kinds:
            return org.id
    raise NotFound(kind=_("Organisation"), id="platform")


def boundaries(
    session: Session,
    *,
    providers: Iterable[str],
    consumer: str | None,
    seller: str | None = None,
    algorithm: Mapping[str, Any] | None = None,
    personal: bool = False,
    buyer_to_be: bool = False,
) -> list[dict[str, Any]]:
    """Who answers for what (责任边界) in a contract, product, job or right, in one form: each
    provider (the data's holders, each once), the product's operator (``seller``), the
    platform, the algorithm's provider (when a filed algorithm runs: ``algorithm`` has its
    ``id``, ``name``, ``filing_number`` and ``org_id``), the data user (``consumer``; with
    ``buyer_to_be`` a product's buyer, not known yet; with neither, as for a holding right,
    none). Each part carries its organisation's name and its duties, each citing its rule; the
    duties for personal information with ``personal``. See ``accounts.responsibility``."""
    parties: list[tuple[str, str | None]] = [
        (responsibility.PROVIDER, org) for org in dict.fromkeys(providers)
    ]
    if seller is not None:
        parties.append((responsibility.SELLER, seller))
    parties.append((responsibility.OPERATOR, platform_org_id(session)))
    if algorithm is not None:
        parties.append((responsibility.ALGORITHM_PROVIDER, algorithm.get("org_id")))
    if consumer is not None or buyer_to_be:
        parties.append((responsibility.CONSUMER, consumer))
    names = org_names(session, ids=[org for _part, org in parties if org])
    return responsibility.statement(parties, names=names, personal=personal, algorithm=algorithm)


def count_orgs(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Organisation)) or 0


def regulator_ids(session: Session, *, department: str) -> list[str]:
    """The regulators of one department (网信, 数据局, an industry authority…)."""
    orgs = session.scalars(select(Organisation).where(Organisation.department == department))
    return [o.id for o in orgs if "regulator" in o.kinds]


def find_user(session: Session, *, user_id: str) -> UserPublic | None:
    user = session.get(User, user_id)
    return UserPublic.model_validate(user) if user is not None else None


def user_named(session: Session, *, username: str) -> UserPublic | None:
    user = session.scalar(select(User).where(User.username == username))
    return UserPublic.model_validate(user) if user is not None else None


def authenticate(session: Session, *, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        _hasher.hash(password)  # same work either way, so timing does not reveal usernames
        raise InvalidCredentials()
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidCredentials() from exc
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def bootstrap_admin(
    session: Session, actor: Actor, *, username: str, password: str, org_name: str = "平台运营方"
) -> User:
    """Creates the platform organisation (once) and a platform administrator in it."""
    org = session.scalar(select(Organisation).where(Organisation.name == org_name))
    if org is None:
        org = create_org(session, actor, name=org_name, kinds=["platform"])
    elif "platform" not in org.kinds:
        raise InvalidInput(problem=_("'{org_name}' is not the platform", org_name=org_name))
    return create_user(
        session,
        actor,
        org_id=org.id,
        username=username,
        password=password,
        role="admin",
        display_name="平台管理员",
    )
