"""Which columns of a version may show values (min/max/mean/top) to people outside the
provider, read from the version's confirmed screen.

A profile is computed and stored whole; what an outsider is shown is decided at read time
(``yaosu.catalog.service.shown_columns``). This module only says, from the screen, which
columns are personal, sensitive or identifiers. It imports no other domain, so the catalog
can import it without a cycle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.privacy.detectors import REGISTRY
from yaosu.privacy.models import Screen


def confirmed_screen(session: Session, *, dataset_id: str, version: int) -> Screen | None:
    """The newest screen of ``version`` that the provider's reviewer confirmed, if any: what
    request routing, review and profile exposure read (personal information, grade)."""
    return session.scalars(
        select(Screen)
        .where(
            Screen.dataset_id == dataset_id,
            Screen.version == version,
            Screen.status == "confirmed",
        )
        .order_by(Screen.reviewed_at.desc())
        .limit(1)
    ).first()


def confirmed_grade(session: Session, *, dataset_id: str, version: int) -> str | None:
    """The grade (一般/重要/核心 as ``general``/``important``/``core``) a reviewer confirmed for
    ``version``; None before a screen of it is confirmed."""
    screen = confirmed_screen(session, dataset_id=dataset_id, version=version)
    return screen.grade if screen is not None else None


@dataclass(frozen=True)
class Exposure:
    """``confirmed``: a reviewer confirmed a screen of the version. ``withheld``: the columns
    whose values stay with the provider; ``None`` means every column."""

    confirmed: bool
    withheld: frozenset[str] | None


# Headers of identifiers no detector knows by shape: record numbers, account numbers, codes.
IDENTIFIER_HINTS = (
    "编号",
    "号码",
    "代码",
    "账号",
    "帐号",
    "卡号",
    "证号",
    "工号",
    "学号",
    "邮编",
    "邮政编码",
)
_LATIN_ID = re.compile(r"(?:^|[^a-z])(?:id|uid|uuid|ssn|no)(?:[^a-z]|$)")


def identifying_header(name: str) -> bool:
    """A header that names an identifier or personal attribute (手机, 身份证, 卡号, 出生,
    客户编号, user_id ...), whatever the screen's sample found in it.

    >>> [identifying_header(h) for h in ("客户编号", "user_id", "手机", "销量(吨)", "provider")]
    [True, True, True, False, False]
    """
    lowered = name.lower()
    return (
        any(h in name for h in IDENTIFIER_HINTS)
        or _LATIN_ID.search(lowered) is not None
        or any(d.hinted_by(name) for d in REGISTRY.values())
    )


def withheld_columns(screen: Screen, columns: list[str]) -> frozenset[str] | None:
    """Columns of a confirmed screen whose values are withheld from outsiders: every column
    where the screen found an entity (personal or an identifier such as a credit code), every
    column a de-identification left identifiers or pseudonyms in, and every column whose
    header names one. ``None`` when the screen says "personal" but cannot say where (a
    reviewer's correction, a de-identified version with nothing attributed): all of them."""
    findings = screen.findings
    residual = set((findings.get("deidentification") or {}).get("residual_identifiers", []))
    entities = {c["column"]: c.get("entities", []) for c in findings.get("columns", [])}
    personal = {name for name, found in entities.items() if any(e["personal"] for e in found)}
    if screen.personal and not ((personal | residual) & set(columns)):
        return None
    found = {name for name, found in entities.items() if found} | residual
    return frozenset(found | {c for c in columns if identifying_header(c)})


def exposure(session: Session, *, dataset_id: str, version: int, columns: list[str]) -> Exposure:
    screen = confirmed_screen(session, dataset_id=dataset_id, version=version)
    if screen is None:
        return Exposure(False, None)
    return Exposure(True, withheld_columns(screen, columns))
