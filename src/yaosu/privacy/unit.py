"""The privacy unit of a dataset: what one person is, declared by its provider.

Differential privacy promises ε per *person*. The governed query keeps one row per unit
(contribution bounding); if the unit is wrong (a sales table where one customer has many
rows, bounded by row), the answer spends far more than the ε it reports. So the unit is not
guessed: the provider declares it per dataset, as a column, a combination of columns (a name
with a birth date), or "each row is a distinct person". The screen proposes one from the
identifiers it found; a dataset with personal information and no declared unit is not
answered under differential privacy until it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from yaosu.audit.service import record
from yaosu.authorization.policy import enforce
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import Base, UTCDateTime, utcnow
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _
from yaosu.privacy.service import confirmed_screen, list_screens

MAX_COLUMNS = 4  # a unit of more columns than this is not a person's identity


class PrivacyUnit(Base):
    __tablename__ = "privacy_units"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    columns: Mapped[list[str]] = mapped_column(JSON)  # empty: each row is a distinct person
    note: Mapped[str | None] = mapped_column(Text)
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# What the screen proposes, strongest identifier first: one column that names a person, or
# a name together with a birth date.
_SINGLE = [
    ("CN_RESIDENT_ID", "居民身份证号", "resident ID number"),
    ("CN_PASSPORT", "护照号", "passport number"),
    ("CN_BANK_CARD", "银行卡号", "bank card number"),
    ("CN_MOBILE", "手机号", "mobile number"),
    ("PHONE_NUMBER", "电话号码", "phone number"),
    ("EMAIL_ADDRESS", "电子邮箱", "email address"),
]


@dataclass(frozen=True)
class Proposal:
    columns: list[str]
    why_zh: str
    why_en: str


def propose(findings: dict[str, Any]) -> Proposal | None:
    """The unit the screen's findings suggest, or None when they found no identifier.

    >>> f = {"columns": [{"column": "姓名", "entities": [{"entity": "CN_PERSON_NAME"}]},
    ...                  {"column": "生日", "entities": [{"entity": "DATE_OF_BIRTH"}]}]}
    >>> propose(f).columns
    ['姓名', '生日']
    """
    by_entity: dict[str, list[str]] = {}
    for column in findings.get("columns", []):
        for entity in column.get("entities", []):
            by_entity.setdefault(entity["entity"], []).append(column["column"])
    for entity, zh, en in _SINGLE:
        if entity in by_entity:
            name = by_entity[entity][0]
            return Proposal([name], f"字段「{name}」含{zh}", f"the field {name} holds {en}s")
    names, births = by_entity.get("CN_PERSON_NAME"), by_entity.get("DATE_OF_BIRTH")
    if names and births:
        return Proposal(
            [names[0], births[0]],
            f"字段「{names[0]}」含姓名，「{births[0]}」含出生日期：两者合起来指向一个人",
            f"the field {names[0]} holds names and {births[0]} birth dates: together they "
            "name one person",
        )
    if names:
        return Proposal(
            [names[0]],
            f"字段「{names[0]}」含姓名（同名者会被当作一人，估计偏保守）",
            f"the field {names[0]} holds names (namesakes count as one person, which is "
            "conservative)",
        )
    return None


def declared(session: Session, *, dataset_id: str) -> PrivacyUnit | None:
    """The dataset's declared unit (for the governed query; the caller has decided)."""
    return session.get(PrivacyUnit, dataset_id)


def view(session: Session, actor: Actor, *, dataset_id: str) -> dict[str, Any]:
    """The declared unit and the screen's proposal, for the provider."""
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "dataset.screen", catalog.resource(ds))
    screen = (
        confirmed_screen(session, dataset_id=ds.id, version=ds.latest_version)
        if ds.latest_version
        else None
    )
    if screen is None:
        screens = list_screens(session, actor, dataset_id=ds.id)
        screen = screens[0] if screens else None
    proposal = propose(screen.findings) if screen is not None else None
    unit = declared(session, dataset_id=ds.id)
    return {
        "dataset_id": ds.id,
        "declared": unit is not None,
        "columns": list(unit.columns) if unit else [],
        "each_row_is_a_person": unit is not None and not unit.columns,
        "note": unit.note if unit else None,
        "declared_by": unit.declared_by if unit else None,
        "declared_at": unit.declared_at if unit else None,
        "personal": None if screen is None else screen.personal,
        "proposal": None
        if proposal is None
        else {"columns": proposal.columns, "why_zh": proposal.why_zh, "why_en": proposal.why_en},
    }


def declare(
    session: Session,
    actor: Actor,
    *,
    dataset_id: str,
    columns: list[str],
    each_row_is_a_person: bool = False,
    note: str = "",
) -> PrivacyUnit:
    """The provider's reviewer or admin declares the unit (audited, in this transaction)."""
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "dataset.review", catalog.resource(ds))
    columns = [c.strip() for c in columns if c.strip()]
    if each_row_is_a_person and columns:
        raise InvalidInput(problem=_("declare either columns or each_row_is_a_person, not both"))
    if not each_row_is_a_person and not columns:
        raise InvalidInput(
            problem=_(
                "name the column(s) that identify one person, or declare that each row is a distinct person"
            )
        )
    if len(columns) > MAX_COLUMNS or len(set(columns)) != len(columns):
        raise InvalidInput(
            problem=_("at most {MAX_COLUMNS} distinct columns", MAX_COLUMNS=MAX_COLUMNS)
        )
    if not ds.latest_version:
        raise InvalidInput(problem=_("the dataset has no version yet"))
    version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
    known = [c["name"] for c in version.columns]
    missing = [c for c in columns if c not in known]
    if missing:
        raise InvalidInput(
            problem=_(
                "the latest version has no column {missing} (it has: {known})",
                missing=missing,
                known=list(known),
            )
        )
    unit = declared(session, dataset_id=ds.id)
    before = None if unit is None else list(unit.columns)
    if unit is None:
        unit = PrivacyUnit(dataset_id=ds.id, columns=columns, declared_by=actor.id)
        session.add(unit)
    unit.columns = columns
    unit.note = note.strip() or None
    unit.declared_by = actor.id
    unit.declared_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        action="privacy.unit.declare",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        reason=note.strip(),
        request={"columns": columns, "each_row_is_a_person": each_row_is_a_person},
        detail={"columns": columns, "before": before, "version": version.number},
    )
    return unit
