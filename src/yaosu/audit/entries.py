"""Listing the log: the entries an actor may see, through the one decision function's SQL
form (``visible``). Apart from ``service`` because the decision function itself writes
through ``service.record``: the record is below the policy, the listing above it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from yaosu.audit.models import AuditEntry
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import _

# An entry as the view rule sees it (``audit.transparency`` builds the same ``Resource``).
ROWS = Rows(
    "audit",
    None,
    {"actor_org_id": AuditEntry.actor_org_id, "object_org_id": AuditEntry.object_org_id},
)


def latest_entries(
    session: Session, actor: Actor, *, action: str | None = None, limit: int
) -> list[AuditEntry]:
    """The newest entries the actor may see, newest first."""
    stmt = entries_query(actor, action=action).order_by(AuditEntry.leaf_index.desc())
    return list(session.scalars(stmt.limit(limit)))


def entries_query(
    actor: Actor,
    *,
    actor_id: str | None = None,
    org_id: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_ids: Collection[str] | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[AuditEntry]:
    """Entries the actor may see (``audit.view`` of each: oversight sees all, an organisation
    the entries it made or that concern its objects). ``org_id``: entries an organisation made
    or that concern it; ``object_ids``: any of these objects (a name's matches)."""
    stmt = select(AuditEntry).where(visible(actor, "audit.view", ROWS))
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if org_id:
        stmt = stmt.where(
            or_(AuditEntry.actor_org_id == org_id, AuditEntry.object_org_id == org_id)
        )
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if object_ids is not None:
        stmt = stmt.where(AuditEntry.object_id.in_(sorted(object_ids)))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:  # a time without a zone is taken as UTC
        stmt = stmt.where(AuditEntry.at >= (since if since.tzinfo else since.replace(tzinfo=UTC)))
    if until:
        stmt = stmt.where(AuditEntry.at < (until if until.tzinfo else until.replace(tzinfo=UTC)))
    return stmt


def list_entries(
    session: Session, actor: Actor, *, limit: int = 50, offset: int = 0, **filters: Any
) -> tuple[list[AuditEntry], int]:
    stmt = entries_query(actor, **filters)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditEntry.leaf_index.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def find_entry(session: Session, actor: Actor, *, index: int) -> AuditEntry:
    """One entry, for an actor who may see it (a refusal names the entry, as the proof does)."""
    entry = session.scalar(select(AuditEntry).where(AuditEntry.leaf_index == index))
    if entry is None:
        raise NotFound(kind=_("Audit entry"), id=str(index))
    enforce(actor, "audit.view", entry_resource(entry))
    return entry


def entry_resource(entry: AuditEntry) -> Resource:
    about = {"actor_org_id": entry.actor_org_id, "object_org_id": entry.object_org_id}
    return Resource("audit", str(entry.leaf_index), None, about)
