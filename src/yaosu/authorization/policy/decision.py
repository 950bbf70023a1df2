"""What a rule is asked about (``Resource``, or for a listing its SQL twin ``Rows``) and what
it answers (``Decision``, or for a listing a boolean clause), with the two facts most rules
start from: membership and oversight, in both forms."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false

from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import Message


@dataclass(frozen=True)
class Resource:
    type: str  # dataset | organisation | audit | token
    id: str
    owner_org_id: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rows:
    """A ``Resource`` as SQL: the same fields, as column expressions over the rows of one
    listing. The domain that owns the table declares it beside the function that builds the
    ``Resource`` of one row, so the two say the same thing. An attribute that is a set in the
    ``Resource`` (a request's reviewers, a contract's providers) is here a function from an
    organisation id to "the set holds it"."""

    type: str
    owner_org_id: Any
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def holds(self, name: str, org_id: str | None) -> ColumnElement[bool]:
        has: Callable[[str], ColumnElement[bool]] = self.attrs[name]
        return has(org_id) if org_id is not None else false()


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


def is_member_sql(actor: Actor, rows: Rows) -> ColumnElement[bool]:
    """``is_member`` over a listing's rows."""
    if actor.org_id is None:
        return false()
    return rows.owner_org_id == actor.org_id


def no_sql_form(action: str) -> ValueError:
    """For ``visible`` asked about an action no listing needs: a programming error, not a
    refusal (an empty listing would look like an answer)."""
    return ValueError(f"{action} has no SQL form: only the view actions of listed resources do")
