"""The two ways a governed query is turned away: refused (the contract does not allow it)
or invalid (it cannot run as written), each said in Chinese and English."""

from __future__ import annotations

from typing import Any

from yaosu.kernel.errors import QueryInvalid, QueryRefused


def refuse(zh: str, en: str, **detail: Any) -> QueryRefused:
    return QueryRefused(reason_zh=zh, reason_en=en, **detail)


def invalid(zh: str, en: str, **detail: Any) -> QueryInvalid:
    return QueryInvalid(reason_zh=zh, reason_en=en, **detail)


def position(sql: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset.

    >>> position("SELECT 1\\nFROM t", 10)
    (2, 2)
    """
    before = sql[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def invalid_at(zh: str, en: str, sql: str, offset: int) -> QueryInvalid:
    """Invalid, with the line and column where the trouble starts."""
    line, col = position(sql, offset)
    zh, en = f"{zh}（第 {line} 行第 {col} 列）", f"{en} (line {line}, column {col})"
    return QueryInvalid(reason_zh=zh, reason_en=en, line=line, column=col)
