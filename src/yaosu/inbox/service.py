"""The inbox of one actor: every registered kind asked in turn (``yaosu.inbox.registry``).

``count`` is what the navigation shows on every page: the counted sections' kinds, one
query each at most, and none for a kind whose decision already says the actor has nothing
of it. ``collect`` is the inbox page: every kind's items, sorted within their sections.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from yaosu.inbox import (
    kinds,  # noqa: F401  (registers the built-in kinds)
    labels,
)
from yaosu.inbox.registry import COUNTED, KINDS, SECTIONS, Item, Kind, Words, register
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.i18n import label, localise

__all__ = [
    "COUNTED",
    "KINDS",
    "SECTIONS",
    "Item",
    "Kind",
    "collect",
    "count",
    "items_of",
    "register",
    "shown",
]

EPOCH = datetime.min.replace(tzinfo=UTC)


def count(session: Session, actor: Actor, *, now: datetime | None = None) -> int:
    """How many items wait for the actor (the sections ``waiting`` and ``watch``)."""
    at = now or utcnow()
    return sum(k.count(session, actor, now=at) for k in KINDS.values() if k.count is not None)


def collect(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> dict[str, list[Item]]:
    """Every item for the actor by section: what waits and what to watch, urgent first and
    then oldest first; news and the decisions made, newest first."""
    at = now or utcnow()
    words = Words(session)
    out: dict[str, list[Item]] = {section: [] for section in SECTIONS}
    for kind in KINDS.values():
        out[kind.section].extend(kind.items(session, actor, now=at, words=words))
    for section, items in out.items():
        _sort(items, counted=section in COUNTED)
    return out


def items_of(
    session: Session, actor: Actor, *, kind: str, now: datetime | None = None
) -> list[Item]:
    """One kind's items (a home page's section), sorted as in the inbox."""
    found = KINDS[kind].items(session, actor, now=now or utcnow(), words=Words(session))
    return _sort(found, counted=KINDS[kind].section in COUNTED)


def _sort(items: list[Item], *, counted: bool) -> list[Item]:
    if counted:
        items.sort(key=lambda i: (not i.urgent, i.due or i.at or EPOCH, i.ref))
    else:
        items.sort(key=lambda i: i.at or EPOCH, reverse=True)
    return items


def shown(item: Item, lang: str) -> dict[str, Any]:
    """An item as a page shows it, in the reader's language."""
    return {
        "kind": label(labels.KIND, item.kind).render(lang),
        "text": localise(item.text, lang),
        "href": item.href,
        "at": item.at,
        "due": item.due,
        "urgent": item.urgent,
        "ref": item.ref,
    }
