"""What governance takes (a contract's grants) and what it gives (the governed query)."""

from __future__ import annotations

from dataclasses import dataclass, field

ROW_LIMIT = 10_000  # the most rows a row-level query returns


@dataclass(frozen=True)
class Grant:
    """What one contract grants on one dataset."""

    dataset_id: str
    source: str  # the engine's name for the dataset version (never writable by the user)
    columns: dict[str, str]  # granted column -> SQL type
    all_columns: frozenset[str]  # every column of the version, to tell "not granted" apart
    masks: dict[str, str] = field(default_factory=dict)  # column -> hash | mask
    row_filter: str | None = None
    # The privacy unit: the column, or columns together, that name one person (contribution
    # bounding keeps one row per unit). None: each row is a distinct person.
    unit: str | tuple[str, ...] | None = None
    mask_key: str = ""  # the secret prefix of hashed columns


@dataclass
class Aggregate:
    """One output column of an aggregate query and what it is."""

    name: str
    kind: str  # key | count | sum | avg
    column: str | None = None  # the aggregated column (sum/avg)


@dataclass
class Governed:
    sql: str  # the query as written, normalised
    rewritten: str  # what runs
    tables: list[str]  # dataset ids used
    aggregate: bool
    outputs: list[Aggregate]
    group_keys: list[str]
    count_column: str | None  # the hidden per-group row count added for suppression
    # Aggregate answers: ORDER BY (output index, descending, nulls first), LIMIT and OFFSET,
    # applied by the service to the released rows (after noise and suppression).
    order: list[tuple[int, bool, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


def units_of(grant: Grant) -> tuple[str, ...]:
    """The privacy unit's columns; empty when each row is a distinct person.

    >>> units_of(Grant("d", "s", {}, frozenset(), unit="id"))
    ('id',)
    """
    if grant.unit is None:
        return ()
    return (grant.unit,) if isinstance(grant.unit, str) else tuple(grant.unit)
