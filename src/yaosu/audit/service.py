"""The one audit call. Every state change and every data access goes through ``record``.

It runs inside the caller's transaction, so the entry commits or rolls back with
the change it describes, and appends the entry to the transparency log (see
``yaosu.audit.log``). Entries hold identifiers and hashes, never personal information.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from yaosu.audit import log
from yaosu.audit.models import AuditEntry
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
    *,
    action: str,
    object_type: str,
    object_id: str,
    object_org_id: str | None = None,
    allowed: bool = True,
    reason: str | Message = "",
    request: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    values = _entry(
        actor, action, object_type, object_id, object_org_id, allowed, reason, request, detail
    )
    log.append(session, entries=[values])
    return AuditEntry(**values)


def record_many(session: Session, actor: Actor, *, events: Iterable[Mapping[str, Any]]) -> int:
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
    log.append(session, entries=entries)
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
