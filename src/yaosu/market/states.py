"""The states of a product's listing, of a price negotiation and of an operator's revenue
period, and the moves each allows (every change goes through ``kernel.states.transition``)."""

from __future__ import annotations

from enum import StrEnum

from yaosu.kernel.states import Moves


class ListingState(StrEnum):
    draft = "draft"  # the seller writes the product, its manifest, lineage and price
    assessing = "assessing"  # 合规评估: rights chain, screen and grade, purposes allowed
    in_review = "in_review"  # the provider, 数据局 for public data, 网信 for personal information
    in_notice = "in_notice"  # 公示: anyone may look before it is listed
    listed = "listed"  # 挂牌: on the market, in the DCAT catalog with its offer
    suspended = "suspended"  # taken off the market for now
    delisted = "delisted"  # taken off for good
    rejected = "rejected"  # assessment or review failed; the seller may revise it (-> draft)


LISTING_MOVES: Moves[ListingState] = {
    ListingState.draft: frozenset({ListingState.assessing}),
    ListingState.assessing: frozenset({ListingState.in_review, ListingState.rejected}),
    ListingState.in_review: frozenset({ListingState.in_notice, ListingState.rejected}),
    ListingState.in_notice: frozenset({ListingState.listed, ListingState.rejected}),
    ListingState.listed: frozenset({ListingState.suspended, ListingState.delisted}),
    ListingState.suspended: frozenset({ListingState.listed, ListingState.delisted}),
    ListingState.rejected: frozenset({ListingState.draft}),
}


class ListingReviewState(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


LISTING_REVIEW_MOVES: Moves[ListingReviewState] = {
    ListingReviewState.pending: frozenset(
        {ListingReviewState.approved, ListingReviewState.rejected}
    ),
}


class NegotiationState(StrEnum):
    offered = "offered"  # the buyer's quote waits for the seller
    countered = "countered"  # the seller's counter waits for the buyer
    accepted = "accepted"  # the agreed amount is what an order for it pays
    declined = "declined"  # either side ended it


NEGOTIATION_MOVES: Moves[NegotiationState] = {
    NegotiationState.offered: frozenset(
        {NegotiationState.countered, NegotiationState.accepted, NegotiationState.declined}
    ),
    NegotiationState.countered: frozenset(
        {NegotiationState.offered, NegotiationState.accepted, NegotiationState.declined}
    ),
}


class PeriodState(StrEnum):
    open = "open"  # revenue is counted against its allowed revenue
    closed = "closed"  # its excess, if any, is deducted from the next period's


PERIOD_MOVES: Moves[PeriodState] = {PeriodState.open: frozenset({PeriodState.closed})}
