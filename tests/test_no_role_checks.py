"""Roles and organisation kinds are read by the policy rules only: services, pages and
templates ask ``decide`` (or, in a template, the ``can`` map built from it), and listings
``visible``. A check by hand elsewhere is a rule the policy does not know about, so the
listing and the button can disagree with the decision."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from tests.conftest import actor
from yaosu.accounts.models import User
from yaosu.authorization.policy import Resource, decide
from yaosu.catalog.service import OPENING_NOTIFIES
from yaosu.console.pages import HOME
from yaosu.console.render import abilities
from yaosu.context import Context
from yaosu.kernel.actor import Actor

SRC = Path(__file__).resolve().parent.parent / "src" / "yaosu"

# Where roles and kinds belong: the rules, and the actor that carries them.
EXEMPT = ("authorization/policy/", "kernel/actor.py")

CHECK = re.compile(r"has_kind\(|\.role\b|\.is_platform_admin\b|\.org_kinds\b")

# (file, the line's text) -> why reading a role there is not a check.
ALLOWED = {
    ("accounts/service.py", "role=user.role,"): "builds the Actor from its user row",
    (
        "accounts/templates/org.html",
        '<td>{{ label("role", m.role) }}</td>',
    ): "shows each member's role on the organisation page",
    ("demo/service.py", "user.role, user.display_name"): "the demo's summary lists its users",
}


def _hits() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted([*SRC.rglob("*.py"), *SRC.rglob("*.html")]):
        name = path.relative_to(SRC).as_posix()
        if name.startswith(EXEMPT):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CHECK.search(line) and not any(
                name == file and text in line for file, text in ALLOWED
            ):
                found.append((name, number, line.strip()))
    return found


def test_no_role_or_kind_checks_outside_the_policy() -> None:
    assert _hits() == []


def test_every_allowance_is_still_needed() -> None:
    for file, text in ALLOWED:
        lines = (SRC / file).read_text(encoding="utf-8").splitlines()
        assert any(text in line and CHECK.search(line) for line in lines), (file, text)


def test_the_scan_sees_a_check() -> None:
    for line in ('if actor.has_kind("provider"):', "{% if actor.role == 'admin' %}"):
        assert CHECK.search(line), line


def _old_checks(actor: Actor) -> dict[str, bool]:
    """The checks the console wrote by hand before they moved into the policy, verbatim."""
    return {
        "dataset.create": actor.has_kind("provider") and actor.role != "reviewer",
        "requests.read": actor.has_kind("consumer") or actor.has_kind("operator"),
        "reviews.read": actor.role in ("reviewer", "admin")
        and (actor.has_kind("provider") or actor.has_kind("regulator")),
        "home.datasets": actor.has_kind("provider"),
        "home.usable": actor.has_kind("operator")
        or actor.has_kind("consumer")
        or actor.has_kind("assessor"),
        "home.openings": actor.has_kind("regulator") and actor.department == OPENING_NOTIFIES,
        "home.oversight": actor.has_kind("regulator") or actor.has_kind("platform"),
        "home.health": actor.has_kind("platform"),
        "org.manage": actor.role == "admin",  # of the actor's own organisation
    }


def test_the_policy_answers_as_the_old_checks_did(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        usernames = list(session.scalars(select(User.username)))
    assert len(usernames) >= 9
    for who in [actor(ctx, u) for u in usernames]:
        can = abilities(who)
        home = Resource("console", "home", who.org_id, {"departments": (OPENING_NOTIFIES,)})
        can |= {a: decide(who, a, home).allowed for a in HOME}
        own = Resource("organisation", who.org_id or "", who.org_id)
        can["org.manage"] = decide(who, "org.manage", own).allowed
        assert {a: can[a] for a in _old_checks(who)} == _old_checks(who), who.username
