"""Roles and organisation kinds are read by the policy rules only: services, pages and
templates ask ``decide`` (or, in a template, the ``can`` map built from it), and listings
``visible``. A check by hand elsewhere is a rule the policy does not know about, so the
listing and the button can disagree with the decision."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "yaosu"

# Where roles and kinds belong: the rules, and the actor that carries them.
EXEMPT = ("authorization/policy/", "kernel/actor.py")

CHECK = re.compile(r"has_kind\(|\.role\b|\.is_platform_admin\b|\.org_kinds\b")

# (file, the line's text) -> why reading a role there is not a check.
ALLOWED = {
    ("accounts/service.py", "role=user.role,"): "builds the Actor from its user row",
    (
        "accounts/templates/org.html",
        "<td>{{ label(m.role) }}</td>",
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
