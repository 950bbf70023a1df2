"""The two ways a governed query is turned away: refused (the contract does not allow it)
or invalid (it cannot run as written), each with its reason as a ``Message``."""

from __future__ import annotations

from typing import Any

from yaosu.kernel.errors import QueryInvalid, QueryRefused
from yaosu.kernel.i18n import Message, _


def refuse(reason: Message, **detail: Any) -> QueryRefused:
    return QueryRefused(reason=reason, **detail)


def invalid(reason: Message, **detail: Any) -> QueryInvalid:
    return QueryInvalid(reason=reason, **detail)


def position(sql: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset.

    >>> position("SELECT 1\\nFROM t", 10)
    (2, 2)
    """
    before = sql[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def invalid_at(reason: Message, sql: str, offset: int) -> QueryInvalid:
    """Invalid, with the line and column where the trouble starts."""
    line, col = position(sql, offset)
    where = _("{reason} (line {line}, column {column})", reason=reason, line=line, column=col)
    return QueryInvalid(reason=where, line=line, column=col)
