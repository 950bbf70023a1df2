"""What waits for whom in authorisation, for the inbox: the requests an organisation must
review, the reviews it made, how its own requests ended, and its contracts that are nearly
spent or about to lapse.

Read-only: nothing here expires an overdue request (a count shown in the navigation must
never write), so an overdue request simply stops counting. Every listing is filtered with
``visible`` and each row it returns is one ``decide`` allows; the counts are the listings'
own ``WHERE`` as ``COUNT(*)``, one query each.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from yaosu.authorization.contracts import ROWS as CONTRACT_ROWS
from yaosu.authorization.models import AccessRequest, Contract, Review
from yaosu.authorization.policy import Resource, decide, visible
from yaosu.authorization.requests import ROWS as REQUEST_ROWS
from yaosu.authorization.states import ContractState, RequestState, ReviewState
from yaosu.kernel.actor import Actor

DECIDED = (ReviewState.approved, ReviewState.conditional, ReviewState.rejected)
ENDED = (RequestState.approved, RequestState.rejected, RequestState.expired)


def _may_review(actor: Actor, reviewers: list[str]) -> bool:
    return decide(
        actor, "request.review", Resource("request", "*", None, {"reviewers": reviewers})
    ).allowed


def _waiting_clause(actor: Actor, now: datetime) -> ColumnElement[bool]:
    pending = select(Review.request_id).where(
        Review.reviewer_org_id == actor.org_id, Review.status == ReviewState.pending
    )
    return and_(
        visible(actor, "request.view", REQUEST_ROWS),
        AccessRequest.status == RequestState.submitted,
        AccessRequest.due_at > now,
        AccessRequest.id.in_(pending),
    )


def count_reviews_waiting(session: Session, actor: Actor, *, now: datetime) -> int:
    """How many requests wait for a review the actor may make for its organisation."""
    # ``request.review`` reads only whether the organisation is among a request's reviewers
    # (every request counted here has it among them) and the actor's role: one decision
    # stands for every row, and no query is made for an actor who may review nothing.
    if actor.org_id is None or not _may_review(actor, [actor.org_id]):
        return 0
    stmt = select(func.count()).select_from(AccessRequest).where(_waiting_clause(actor, now))
    return session.scalar(stmt) or 0


def reviews_waiting(
    session: Session, actor: Actor, *, now: datetime, limit: int = 50
) -> list[AccessRequest]:
    """The requests waiting for the actor's organisation's review, soonest due first: those
    the actor may review (``request.review``, decided for each)."""
    if actor.org_id is None:
        return []
    stmt = (
        select(AccessRequest)
        .where(_waiting_clause(actor, now))
        .order_by(AccessRequest.due_at, AccessRequest.id)
        .limit(limit)
    )
    found = list(session.scalars(stmt))
    reviewers = _reviewers(session, [r.id for r in found])
    return [r for r in found if _may_review(actor, reviewers.get(r.id, []))]


def _reviewers(session: Session, request_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if request_ids:
        rows = session.execute(
            select(Review.request_id, Review.reviewer_org_id).where(
                Review.request_id.in_(request_ids)
            )
        )
        for request_id, org_id in rows:
            out.setdefault(request_id, []).append(org_id)
    return out


def reviews_decided(
    session: Session, actor: Actor, *, limit: int = 20
) -> list[tuple[Review, AccessRequest]]:
    """The reviews the actor's organisation made (its history, newest first), for an actor
    who may review for it; each request is one the actor may see (``request.view``)."""
    if actor.org_id is None or not _may_review(actor, [actor.org_id]):
        return []
    stmt = (
        select(Review, AccessRequest)
        .join(AccessRequest, AccessRequest.id == Review.request_id)
        .where(
            Review.reviewer_org_id == actor.org_id,
            Review.status.in_(DECIDED),
            visible(actor, "request.view", REQUEST_ROWS),
        )
        .order_by(Review.decided_at.desc(), Review.id)
        .limit(limit)
    )
    return [(review, req) for review, req in session.execute(stmt)]


def requests_ended(
    session: Session, actor: Actor, *, since: datetime, limit: int = 20
) -> list[AccessRequest]:
    """The actor's organisation's own requests that were approved, rejected or expired since
    ``since``, newest first."""
    if actor.org_id is None:
        return []
    stmt = (
        select(AccessRequest)
        .where(
            visible(actor, "request.view", REQUEST_ROWS),
            AccessRequest.requester_org_id == actor.org_id,
            AccessRequest.status.in_(ENDED),
            AccessRequest.decided_at >= since,
        )
        .order_by(AccessRequest.decided_at.desc(), AccessRequest.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _watch_clause(actor: Actor, now: datetime, *, days: int, share: float) -> ColumnElement[bool]:
    return and_(
        visible(actor, "contract.view", CONTRACT_ROWS),
        Contract.consumer_org_id == actor.org_id,
        Contract.status == ContractState.active,
        Contract.starts_at <= now,
        Contract.ends_at > now,
        or_(
            Contract.ends_at <= now + timedelta(days=days),
            and_(Contract.max_uses.is_not(None), Contract.uses >= Contract.max_uses * share),
            and_(
                Contract.epsilon_budget.is_not(None),
                Contract.epsilon_spent >= Contract.epsilon_budget * share,
            ),
        ),
    )


def count_contracts_to_watch(
    session: Session, actor: Actor, *, now: datetime, days: int, share: float
) -> int:
    """How many of the organisation's contracts in force end within ``days`` or have spent
    ``share`` (0..1) of their uses or privacy budget."""
    if actor.org_id is None:
        return 0
    clause = _watch_clause(actor, now, days=days, share=share)
    return session.scalar(select(func.count()).select_from(Contract).where(clause)) or 0


def contracts_to_watch(
    session: Session, actor: Actor, *, now: datetime, days: int, share: float, limit: int = 50
) -> list[Contract]:
    """The contracts ``count_contracts_to_watch`` counts, soonest ending first."""
    if actor.org_id is None:
        return []
    stmt = (
        select(Contract)
        .where(_watch_clause(actor, now, days=days, share=share))
        .order_by(Contract.ends_at, Contract.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
