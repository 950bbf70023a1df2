"""The one audit call. Every state change and every data access goes through ``record``.

It runs inside the caller's transaction, so the entry commits or rolls back with
the change it describes, and appends the entry to the transparency log (see
``yaosu.audit.log``). Entries hold identifiers and hashes, never personal information.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from yaosu.audit import log
from yaosu.audit.models import AuditEntry
from yaosu.authorization.policy import Rows, visible
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.i18n import Message

_EMPTY_REQUEST = hashlib.sha256(b"{}").hexdigest()


def request_hash(request: Mapping[str, Any] | None) -> str:
    """SHA-256 of the request's canonical JSON (sorted keys, no spaces, UTF-8)."""
    if not request:
        return _EMPTY_REQUEST
    canonical = json.dumps(
        request or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    *,
    object_org_id: str | None = None,
    allowed: bool = True,
    reason: str | Message = "",
    request: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    values = _entry(
        actor, action, object_type, object_id, object_org_id, allowed, reason, request, detail
    )
    log.append(session, [values])
    return AuditEntry(**values)


def record_many(session: Session, actor: Actor, events: Iterable[Mapping[str, Any]]) -> int:
    """``record`` for a batch (each event holds record's arguments by name): one lock, one
    round of inserts. For work that touches many objects at once, such as a bulk import."""
    entries = [
        _entry(
            actor,
            e["action"],
            e["object_type"],
            e["object_id"],
            e.get("object_org_id"),
            e.get("allowed", True),
            e.get("reason", ""),
            e.get("request"),
            e.get("detail"),
        )
        for e in events
    ]
    log.append(session, entries)
    return len(entries)


def _entry(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    object_org_id: str | None,
    allowed: bool,
    reason: str | Message,
    request: Mapping[str, Any] | None,
    detail: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return dict(
        at=utcnow(),
        actor_id=actor.id,
        actor_org_id=actor.org_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_org_id=object_org_id,
        decision="allow" if allowed else "deny",
        reason=str(reason),  # a message is kept in English: the log is a record
        request_hash=request_hash(request),
        # Through JSON once, so the leaf hashed now is the leaf read back from any backend.
        detail=json.loads(json.dumps(dict(detail), ensure_ascii=False, default=str))
        if detail
        else {},
    )


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
