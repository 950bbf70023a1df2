"""The inbox's registry of item kinds: each a small object that says, for one actor, how many
items of its kind wait (one cheap query, or none) and what they are (sentences with links).

The built-in kinds are registered by ``yaosu.inbox.kinds``, one module per domain they read,
the same way any later one (monitoring alerts) registers: ``register(Kind(...))``. A kind
reads its domain through that domain's public service only, and shows only what the
domain's listings (``visible``) and ``decide`` allow.

Sections: ``waiting`` is work for the actor (a review, a screen, a registration step);
``watch`` a condition that needs attention until it passes (a contract nearly spent or about
to lapse, a task that failed); both count in the navigation. ``news`` (what ended lately)
and ``done`` (the decisions the actor's organisation made) are listed, not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization import service as authorization
from yaosu.authorization.policy import Resource, decide
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import Message, Sentences, _

SECTIONS = ("waiting", "watch", "news", "done")
COUNTED = ("waiting", "watch")


@dataclass(frozen=True)
class Item:
    """One thing in the inbox: a sentence in the reader's language and the page where it is
    dealt with. ``ref`` is the object's id, shown on hover only."""

    kind: str
    text: Message | Sentences
    href: str
    at: datetime | None = None  # when it arrived (or, in ``done``, was decided)
    due: datetime | None = None
    urgent: bool = False
    ref: str = ""


@dataclass
class Words:
    """Names for the sentences, read once per inbox page (organisations, dataset titles,
    purposes), never in the navigation's count."""

    session: Session

    @cached_property
    def _orgs(self) -> dict[str, str]:
        return accounts.org_names(self.session)

    @cached_property
    def _purposes(self) -> dict[str, Any]:
        return {
            p.code: {"zh": p.name_zh, "en": p.name_en}
            for p in authorization.list_purposes(self.session, include_retired=True)
        }

    _titles: dict[str, str] = field(default_factory=dict)

    def org(self, org_id: str | None) -> Message | str:
        return self._orgs.get(org_id or "") or _("an organisation")

    def purpose(self, code: str) -> Any:
        return self._purposes.get(code) or code

    def datasets(self, ids: Iterable[str]) -> list[Message | str]:
        wanted = [i for i in ids if i not in self._titles]
        if wanted:
            self._titles.update(catalog.dataset_titles(self.session, ids=wanted))
        return [self._titles.get(i) or _("a dataset") for i in ids]

    def dataset(self, dataset_id: str) -> Message | str:
        return self.datasets([dataset_id])[0]


@dataclass(frozen=True)
class Kind:
    """``items(session, actor, now=…, words=…)`` lists the actor's items of this kind;
    ``count(session, actor, now=…)``, for a counted section, says how many without listing
    them (it must agree with ``items``: tests/inbox checks it for every demo role)."""

    name: str
    section: str
    items: Callable[..., list[Item]]
    count: Callable[..., int] | None = None

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(f"unknown inbox section {self.section}")
        if (self.section in COUNTED) != (self.count is not None):
            raise ValueError(f"{self.name}: a counted section needs a count, others none")


KINDS: dict[str, Kind] = {}


def offers(actor: Actor, action: str) -> bool:
    """Whether the console offers the actor a part of itself (``requests.read``: the
    organisation requests data; ``reviews.read``: the actor reviews requests;
    ``home.datasets``: the organisation provides data). A kind asks it before its first query,
    so a role that can have none of its items costs the navigation nothing; each item is
    still one its domain's ``visible`` and ``decide`` allow."""
    return decide(actor, action, Resource("console", "inbox", actor.org_id)).allowed


def register(kind: Kind) -> Kind:
    if kind.name in KINDS and KINDS[kind.name] != kind:
        raise ValueError(f"inbox kind {kind.name} is registered twice")
    KINDS[kind.name] = kind
    return kind
