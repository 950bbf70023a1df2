"""Listing the log: the entries an actor may see, through the one decision function's SQL
form (``visible``). Apart from ``service`` because the decision function itself writes
through ``service.record``: the record is below the policy, the listing above it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from yaosu.audit.models import AuditEntry
from yaosu.authorization.policy import Rows, visible
from yaosu.kernel.actor import Actor

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
    object_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[AuditEntry]:
    """Entries the actor may see (``audit.view`` of each: oversight sees all, an organisation
    the entries it made or that concern its objects)."""
    stmt = select(AuditEntry).where(visible(actor, "audit.view", ROWS))
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
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
