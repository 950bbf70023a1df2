"""The purpose taxonomy: each code's names and pricing. The default entries are seeded by a
migration; the platform adds or retires entries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.models import Purpose
from yaosu.authorization.policy import Resource, enforce
from yaosu.authorization.schemas import PurposeSet
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _

# The default taxonomy, seeded by migration 0006 from its own frozen copy (a test keeps the
# two equal; change both, the migration's by a new migration). The platform may add or
# retire entries.
DEFAULT_PURPOSES = [
    ("public_governance", "公共治理", "Public governance", "free"),
    ("public_welfare", "公益事业", "Public welfare", "free"),
    ("scientific_research", "科学研究", "Scientific research", "capped"),
    ("rural_revitalisation", "乡村振兴", "Rural revitalisation", "capped"),
    ("industry_development", "产业发展", "Industry development", "capped"),
    ("commercial_marketing", "商业营销", "Commercial marketing", "market"),
]


def list_purposes(session: Session, *, include_retired: bool = False) -> list[Purpose]:
    stmt = select(Purpose).order_by(Purpose.code)
    if not include_retired:
        stmt = stmt.where(Purpose.active.is_(True))
    return list(session.scalars(stmt))


def set_purpose(session: Session, actor: Actor, *, code: str, data: PurposeSet) -> Purpose:
    enforce(actor, "purpose.manage", Resource("purpose", code))
    purpose = session.get(Purpose, code)
    before = None
    if purpose is None:
        purpose = Purpose(code=code)
        session.add(purpose)
    else:
        before = {"name_zh": purpose.name_zh, "pricing": purpose.pricing, "active": purpose.active}
    for key, value in data.model_dump().items():
        setattr(purpose, key, value)
    session.flush()
    record(
        session,
        actor,
        action="purpose.set",
        object_type="purpose",
        object_id=code,
        request=data.model_dump(),
        detail={"before": before},
    )
    return purpose


def active_purpose(session: Session, *, code: str) -> Purpose:
    purpose = session.get(Purpose, code)
    if purpose is None or not purpose.active:
        codes = ", ".join(p.code for p in list_purposes(session))
        raise InvalidInput(problem=_("unknown purpose {code} ({codes})", code=code, codes=codes))
    return purpose
