"""Remembered governance: the same query under the same grants is governed once (a
consumer's dashboard repeats its queries).

Key: the SQL text exactly as written, every grant in full (dataset, source, columns, types,
masks, row filter, privacy unit, mask key), the contract's aliases, the mode (aggregate-only,
DP), the bounds and the minimum group size; so a changed contract or dataset version is a new key, never a stale
hit. Lifetime: the process; the whole cache is dropped once it holds more than 1,024
entries. The random salt of contribution bounding is not remembered: a remembered rewrite
holds ``SALT`` in its place, and every run gets a fresh one (``fresh``).
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from yaosu.access.governance.model import Governed, Grant

# Stands for the per-run salt in remembered rewrites (unguessable, so no query holds it).
SALT = secrets.token_hex(16)

_GOVERNED: dict[tuple[Any, ...], Governed] = {}
_MAX_ENTRIES = 1024


def _grant_key(g: Grant) -> tuple[Any, ...]:
    return (
        g.dataset_id,
        g.source,
        tuple(sorted(g.columns.items())),
        tuple(sorted(g.all_columns)),
        tuple(sorted(g.masks.items())),
        g.row_filter,
        g.unit,
        g.mask_key,
    )


def key(
    sql: str,
    grants: dict[str, Grant],
    *,
    aggregate_only: bool,
    dp: bool,
    bounds: dict[str, tuple[float, float]] | None,
    min_group_size: int | None,
    aliases: dict[str, str] | None = None,
) -> tuple[Any, ...]:
    """Everything governance depends on, hashable.

    >>> g = Grant("d", "s", {"a": "INT"}, frozenset({"a"}))
    >>> k = key("SELECT 1", {"d": g}, aggregate_only=True, dp=False, bounds=None, min_group_size=5)
    >>> k == key("SELECT 1", {"d": g}, aggregate_only=True, dp=False, bounds={}, min_group_size=5)
    True
    >>> k == key("SELECT 1", {"d": g}, aggregate_only=True, dp=False, bounds={}, min_group_size=5, aliases={"t": "d"})
    False
    """
    return (
        sql,
        tuple(sorted((n, _grant_key(g)) for n, g in grants.items())),
        aggregate_only,
        dp,
        tuple(sorted((bounds or {}).items())),
        min_group_size,
        tuple(sorted((aliases or {}).items())),
    )


def get(found_key: tuple[Any, ...]) -> Governed | None:
    return _GOVERNED.get(found_key)


def remember(found_key: tuple[Any, ...], governed: Governed) -> None:
    if len(_GOVERNED) > _MAX_ENTRIES:
        _GOVERNED.clear()
    _GOVERNED[found_key] = governed


def fresh(found: Governed) -> Governed:
    """A remembered answer for one run: a fresh salt, lists of its own.

    >>> g = Governed("", f"hash('{SALT}')", [], False, [], [], None)
    >>> SALT in fresh(g).rewritten
    False
    """
    return dataclasses.replace(
        found,
        rewritten=found.rewritten.replace(SALT, secrets.token_hex(8)),
        outputs=list(found.outputs),
        group_keys=list(found.group_keys),
    )
