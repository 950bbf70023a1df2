"""State machines: a domain's states are a ``StrEnum``, the moves it allows a table
``{state: frozenset of targets}`` beside it, and every change of state goes through
``transition``, so an illegal move is one error, ``IllegalTransition`` (409), wherever it is
tried. States are stored as plain strings (a ``StrEnum`` member is its string).

A state's label set (``kernel.i18n.label``) is its enum's name in snake case
(``RequestState`` -> ``request_state``), so the error reads in the user's language once the
domain registers its labels.

>>> from enum import StrEnum
>>> class DoorState(StrEnum):
...     open = "open"
...     shut = "shut"
...     gone = "gone"
>>> DOOR_MOVES = {DoorState.open: frozenset({DoorState.shut}),
...               DoorState.shut: frozenset({DoorState.open, DoorState.gone})}
>>> transition(DOOR_MOVES, "open", DoorState.shut, what="Door", id="d1")
<DoorState.shut: 'shut'>
>>> transition(DOOR_MOVES, "gone", DoorState.open, what="Door", id="d1")
Traceback (most recent call last):
  ...
yaosu.kernel.errors.IllegalTransition: Door d1 is gone; it cannot become open.
>>> transition(DOOR_MOVES, "open", DoorState.gone, what="Door", id="d1")
Traceback (most recent call last):
  ...
yaosu.kernel.errors.IllegalTransition: Door d1 is open; it cannot become gone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from yaosu.kernel.errors import IllegalTransition
from yaosu.kernel.i18n import Message, label

S = TypeVar("S", bound=StrEnum)

Moves = Mapping[S, frozenset[S]]


def label_kind(states: type[StrEnum]) -> str:
    """``RequestState`` -> ``request_state``: the label set its states are shown through."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", states.__name__).lower()


def transition(
    table: Moves[S],
    current: str,
    target: S,
    *,
    what: Message | str,
    id: str,
    only_from: S | None = None,
) -> S:
    """``target``, if ``table`` lets ``current`` become it; else ``IllegalTransition``.

    ``only_from`` narrows the move to one starting state, for a step whose target the table
    lets be reached from more than one (a formal review rejects only what it accepted)."""
    states = type(target)
    known = current in states._value2member_map_  # a stored string, or a member
    allowed = known and target in table.get(states(current), frozenset())
    if not allowed or (only_from is not None and current != only_from):
        kind = label_kind(states)
        raise IllegalTransition(
            what=what,
            id=id,
            state=label(kind, current),
            target=label(kind, target),
            **{"from": str(current), "to": str(target)},
        )
    return target
