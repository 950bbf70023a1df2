"""The states of right registrations, objections and the rights (grants) themselves, and the
moves each allows (every change goes through ``kernel.states.transition``)."""

from __future__ import annotations

from enum import StrEnum

from yaosu.kernel.states import Moves


class RegistrationState(StrEnum):
    applied = "applied"
    accepted = "accepted"  # 受理: complete and admissible
    in_notice = "in_notice"  # 公示: passed formal review; anyone may object until the window ends
    registered = "registered"  # the code and certificate were issued
    rejected = "rejected"  # failed formal review, or an objection was upheld


REGISTRATION_MOVES: Moves[RegistrationState] = {
    RegistrationState.applied: frozenset({RegistrationState.accepted}),
    RegistrationState.accepted: frozenset(
        {RegistrationState.in_notice, RegistrationState.rejected}
    ),
    RegistrationState.in_notice: frozenset(
        {RegistrationState.registered, RegistrationState.rejected}
    ),
}


class ObjectionState(StrEnum):
    open = "open"  # blocks the registration until resolved
    upheld = "upheld"  # the registration is rejected
    dismissed = "dismissed"


OBJECTION_MOVES: Moves[ObjectionState] = {
    ObjectionState.open: frozenset({ObjectionState.upheld, ObjectionState.dismissed}),
}


class GrantState(StrEnum):
    pending = "pending"  # its registration is under way
    active = "active"  # registered
    transferred = "transferred"  # a registered transfer passed it on: the new holder's is active
    rejected = "rejected"  # its registration was rejected


GRANT_MOVES: Moves[GrantState] = {
    GrantState.pending: frozenset({GrantState.active, GrantState.rejected}),
    GrantState.active: frozenset({GrantState.transferred}),
}
