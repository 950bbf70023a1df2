"""The states of access requests, their reviews and contracts, and the moves each allows
(every change goes through ``kernel.states.transition``)."""

from __future__ import annotations

from enum import StrEnum

from yaosu.kernel.states import Moves


class RequestState(StrEnum):
    submitted = "submitted"  # waiting for its reviews
    approved = "approved"  # every review approved: a contract was made
    rejected = "rejected"  # one review rejected it
    withdrawn = "withdrawn"  # its requester took it back
    expired = "expired"  # its reviews were overdue


REQUEST_MOVES: Moves[RequestState] = {
    RequestState.submitted: frozenset(
        {
            RequestState.approved,
            RequestState.rejected,
            RequestState.withdrawn,
            RequestState.expired,
        }
    ),
}


class ReviewState(StrEnum):
    pending = "pending"
    approved = "approved"
    conditional = "conditional"  # approved with conditions that narrow the contract
    rejected = "rejected"
    void = "void"  # the request ended before this review was made


REVIEW_MOVES: Moves[ReviewState] = {
    ReviewState.pending: frozenset(
        {ReviewState.approved, ReviewState.conditional, ReviewState.rejected, ReviewState.void}
    ),
}
# The reviews that count towards a contract: every required one must be among them.
APPROVALS = (ReviewState.approved, ReviewState.conditional)


class ContractState(StrEnum):
    # made by the last approval (the provider's acceptance), awaiting the consumer's: not in
    # force, and its term has not started
    offered = "offered"
    active = "active"  # both parties accepted: in force
    declined = "declined"  # the consumer declined the terms: it never came into force
    suspended = "suspended"
    revoked = "revoked"  # for good
    expired = "expired"  # past its end: read from ``ends_at``, never stored


CONTRACT_MOVES: Moves[ContractState] = {
    ContractState.offered: frozenset(
        {ContractState.active, ContractState.declined, ContractState.revoked}
    ),
    ContractState.active: frozenset({ContractState.suspended, ContractState.revoked}),
    ContractState.suspended: frozenset({ContractState.active, ContractState.revoked}),
}
