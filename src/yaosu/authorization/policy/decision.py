"""What a rule is asked about (``Resource``) and what it answers (``Decision``), with the
two facts most rules start from: membership and oversight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import Message


@dataclass(frozen=True)
class Resource:
    type: str  # dataset | organisation | audit | token
    id: str
    owner_org_id: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The answer, its reason (a message id with its parameters, rendered in the reader's
    language), and what the caller must honour: flags such as ``audit-access``, and for a
    contract's use the ``terms`` (columns allowed, minimum group size, what to charge: uses
    and epsilon)."""

    allowed: bool
    reason: Message
    obligations: tuple[str, ...] = ()
    terms: Mapping[str, Any] = field(default_factory=dict)


def allow(reason: Message, *obligations: str, terms: Mapping[str, Any] | None = None) -> Decision:
    return Decision(True, reason, tuple(obligations), dict(terms or {}))


def deny(reason: Message) -> Decision:
    return Decision(False, reason)


def is_member(actor: Actor, resource: Resource) -> bool:
    return actor.org_id is not None and actor.org_id == resource.owner_org_id


def oversees(actor: Actor) -> bool:
    return actor.has_kind("regulator") or actor.has_kind("platform")
