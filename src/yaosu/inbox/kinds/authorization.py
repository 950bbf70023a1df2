"""Inbox items from authorisation: requests to review (and the reviews made), how the
organisation's own requests ended, and contracts nearly spent or about to lapse."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from yaosu.authorization import service as authorization
from yaosu.inbox.registry import Item, Kind, Words, offers, register
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import N_, Message, Sentences, _, label

URGENT_DAYS = 3  # a review due sooner is marked
LAPSE_DAYS = 7  # a contract ending sooner is watched
SPENT_SHARE = 0.8  # ... and one that has used this much of its uses or budget
NEWS_DAYS = 14  # how far back the ended requests go


def _count_reviews(session: Session, actor: Actor, *, now: datetime) -> int:
    if not offers(actor, "reviews.read"):
        return 0
    return authorization.count_reviews_waiting(session, actor, now=now)


def _reviews(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    if not offers(actor, "reviews.read"):
        return []
    return [
        Item(
            "review_request",
            _(
                "{requester} asks to use {datasets} for “{purpose}”: your review is needed.",
                requester=words.org(r.requester_org_id),
                datasets=words.datasets(r.datasets),
                purpose=words.purpose(r.purpose),
            ),
            f"/requests/{r.id}",
            at=r.created_at,
            due=r.due_at,
            urgent=r.due_at - now < timedelta(days=URGENT_DAYS),
            ref=r.id,
        )
        for r in authorization.reviews_waiting(session, actor, now=now)
    ]


def _history(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    if not offers(actor, "reviews.read"):
        return []
    return [
        Item(
            "review_decided",
            _(
                "{requester}'s request to use {datasets} for “{purpose}”: {decision}.",
                requester=words.org(req.requester_org_id),
                datasets=words.datasets(req.datasets),
                purpose=words.purpose(req.purpose),
                decision=label("review_state", review.status),
            ),
            f"/requests/{req.id}",
            at=review.decided_at,
            ref=req.id,
        )
        for review, req in authorization.reviews_decided(session, actor)
    ]


OUTCOMES = {
    "approved": N_(
        "Your request to use {datasets} for “{purpose}” was approved: see its contract."
    ),
    "rejected": N_(
        "Your request to use {datasets} for “{purpose}” was not approved; the reasons are on the request."
    ),
    "expired": N_(
        "Your request to use {datasets} for “{purpose}” expired: its reviews were not made in time."
    ),
}


def _outcomes(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    if not offers(actor, "requests.read"):
        return []
    found = authorization.requests_ended(session, actor, since=now - timedelta(days=NEWS_DAYS))
    return [
        Item(
            "request_ended",
            Message(
                OUTCOMES[r.status],
                {"datasets": words.datasets(r.datasets), "purpose": words.purpose(r.purpose)},
            ),
            # An approval lands on the contract, which says how to use it.
            f"/contracts/{r.contract_id}?done=contract.made"
            if r.contract_id
            else f"/requests/{r.id}",
            at=r.decided_at,
            ref=r.contract_id or r.id,
        )
        for r in found
        if r.status in OUTCOMES
    ]


def _count_contracts(session: Session, actor: Actor, *, now: datetime) -> int:
    if not offers(actor, "requests.read"):
        return 0
    return authorization.count_contracts_to_watch(
        session, actor, now=now, days=LAPSE_DAYS, share=SPENT_SHARE
    )


def _contracts(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    if not offers(actor, "requests.read"):
        return []
    items = []
    for c in authorization.contracts_to_watch(
        session, actor, now=now, days=LAPSE_DAYS, share=SPENT_SHARE
    ):
        said = []
        if c.ends_at - now <= timedelta(days=LAPSE_DAYS):
            days = max(1, math.ceil((c.ends_at - now) / timedelta(days=1)))
            said.append(_("it ends within {days} days", days=days))
        if c.max_uses is not None and c.uses >= c.max_uses * SPENT_SHARE:
            said.append(
                _("{uses} of its {max_uses} uses are spent", uses=c.uses, max_uses=c.max_uses)
            )
        if c.epsilon_budget is not None and c.epsilon_spent >= c.epsilon_budget * SPENT_SHARE:
            said.append(
                _(
                    "ε {spent} of its privacy budget of {budget} is spent",
                    spent=f"{c.epsilon_spent:g}",
                    budget=f"{c.epsilon_budget:g}",
                )
            )
        items.append(
            Item(
                "contract_watch",
                _(
                    "Your contract for {datasets}: {reasons}.",
                    datasets=words.datasets(c.datasets),
                    reasons=Sentences(said),
                ),
                f"/contracts/{c.id}",
                at=c.starts_at,
                due=c.ends_at,
                urgent=c.ends_at - now <= timedelta(days=LAPSE_DAYS),
                ref=c.id,
            )
        )
    return items


def _count_offers(session: Session, actor: Actor, *, now: datetime) -> int:
    if not offers(actor, "requests.read"):  # only data users and operators are offered one
        return 0
    return len(authorization.list_contracts(session, actor, awaiting=True))


def _offers(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    """Contracts every reviewer approved, waiting for this organisation to accept them."""
    if not offers(actor, "requests.read"):
        return []
    return [
        Item(
            "contract_offer",
            _(
                "The contract for {datasets} is approved by every reviewer: read its terms and accept them to bring it into force.",
                datasets=words.datasets(c.datasets),
            ),
            f"/contracts/{c.id}",
            at=c.created_at,
            ref=c.id,
        )
        for c in authorization.list_contracts(session, actor, awaiting=True)
    ]


register(Kind("contract_offer", "waiting", _offers, _count_offers))
register(Kind("review_request", "waiting", _reviews, _count_reviews))
register(Kind("contract_watch", "watch", _contracts, _count_contracts))
register(Kind("request_ended", "news", _outcomes))
register(Kind("review_decided", "done", _history))
