"""The states of a product's listing, of a price negotiation, of an operator's revenue
period and of an order, and the moves each allows (every change goes through ``kernel.states.transition``)."""

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


class OrderState(StrEnum):
    contracting = "contracting"  # its access request is under review, or its contract offered
    awaiting_payment = "awaiting_payment"  # the contract is in force; the bank transfer is due
    delivering = "delivering"  # paid (or free) and held in escrow: the buyer uses the data
    accepted = "accepted"  # 验收: the escrow was released to the seller side
    disputed = "disputed"  # the buyer disputes the delivery: the escrow is frozen
    refunded = "refunded"  # a dispute (or the hold's timeout) returned the money to the buyer
    cancelled = "cancelled"  # ended before delivery: request refused, terms declined, withdrawn


ORDER_MOVES: Moves[OrderState] = {
    OrderState.contracting: frozenset(
        {OrderState.awaiting_payment, OrderState.delivering, OrderState.cancelled}
    ),
    OrderState.awaiting_payment: frozenset({OrderState.delivering, OrderState.cancelled}),
    OrderState.delivering: frozenset(
        {OrderState.accepted, OrderState.disputed, OrderState.refunded}
    ),
    OrderState.disputed: frozenset({OrderState.accepted, OrderState.refunded}),
}


class ShareState(StrEnum):
    held = "held"  # reserved for the party (pending), until the objection window closes
    frozen = "frozen"  # the party objected: kept until the platform (or a regulator) decides
    paid = "paid"  # posted to the party's revenue account
    voided = "voided"  # returned to the seller (a decision found the share was not owed)


SHARE_MOVES: Moves[ShareState] = {
    ShareState.held: frozenset({ShareState.paid, ShareState.frozen}),
    ShareState.frozen: frozenset({ShareState.paid, ShareState.voided}),
}


class ObjectionState(StrEnum):
    open = "open"  # the platform looks at it
    escalated = "escalated"  # a regulator was asked
    upheld = "upheld"  # recomputed or decided in the objector's favour
    dismissed = "dismissed"  # the share stands


OBJECTION_MOVES: Moves[ObjectionState] = {
    ObjectionState.open: frozenset(
        {ObjectionState.escalated, ObjectionState.upheld, ObjectionState.dismissed}
    ),
    ObjectionState.escalated: frozenset({ObjectionState.upheld, ObjectionState.dismissed}),
}
