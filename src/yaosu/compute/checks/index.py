"""What the inputs look like to the checks, built once before a job runs: keys of every cell
and row, and of the identifying values an output must never hold.

An input column is *identifying* when it is text or an integer and more than half of its
rows hold a distinct value (an identity number, a phone, an address: a value that points at
a person or a record). Its values are kept when fewer than ``min_cell`` rows share one (a
value as common as an aggregate cell is no pointer) and when they are long enough not to turn
up by chance: at least ``MIN_CHARS`` characters, or ``MIN_DIGITS`` for a number (an algorithm
computes sums and counts; an 11-digit phone it does not).

Encodings are undone on the output side, not enumerated here: output text that reads as
base64 or hex is decoded and searched, and output text is searched reversed too. That finds
an identifier encoded together with other text as well, and keeps the index to one key per
value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yaosu.compute.checks import keys as k

DISTINCT_SHARE = 0.5  # a column whose distinct values exceed this share of its rows identifies
MIN_CHARS = 6
MIN_DIGITS = 9


@dataclass(frozen=True, eq=False)
class Source:
    """One input table: each cell's key, each whole row's, and each column's distinct keys
    (which tell what input column an output column was copied from)."""

    name: str
    columns: tuple[str, ...]  # lower-cased, for telling columns of equal values apart
    cells: np.ndarray  # (rows, columns) keys
    rows: np.ndarray  # the distinct whole-row keys, sorted
    distinct: tuple[np.ndarray, ...]  # per column, the distinct cell keys, sorted


@dataclass(frozen=True, eq=False)
class InputIndex:
    """The inputs of one job as the checks need them. It holds keys, never values: up to 16
    bytes per input cell (its key, its column's distinct keys), 8 per row, 16 per
    identifying value."""

    sources: tuple[Source, ...]
    values: np.ndarray  # cell keys (``keys.hashes``) of the identifying values, sorted
    text_values: np.ndarray  # their text keys (``keys.value_keys``), sorted
    lengths: frozenset[int]  # their lengths in characters, for the search inside text
    identifying: tuple[tuple[str, str], ...]  # (table, column) pairs found identifying

    @classmethod
    @k.connection()
    def build(cls, tables: Mapping[str, pa.Table], *, min_cell: int = 10) -> InputIndex:
        """From the job's input tables (every column). ``min_cell`` is the rules' threshold:
        a value shared by that many rows is not identifying."""
        sources, found, identifying = [], [], []
        for name, table in tables.items():
            columns, texts = [], []
            for i, column in enumerate(table.column_names):
                values = table.column(i)
                if not k.flat(values.type):
                    continue  # nested input columns are not compared (nested outputs fail)
                text = k.canonical(values)
                columns.append(column.strip().lower())
                texts.append(text)
                if k.textual(values.type):
                    rare = _identifying(text, min_cell)
                    if rare is not None and len(rare):
                        identifying.append((name, column))
                        found.append(rare)
            cells = k.hashes(texts, table.num_rows)
            sources.append(
                Source(
                    name,
                    tuple(columns),
                    cells,
                    k.distinct(k.row_keys(cells)),
                    tuple(k.distinct(cells[:, i]) for i in range(cells.shape[1])),
                )
            )
        values = pa.concat_arrays(found) if found else pa.array([], pa.large_string())
        return cls(
            tuple(sources),
            k.distinct(k.hashes([values], len(values))[:, 0]),
            k.distinct(k.value_keys(values)),
            frozenset(np.unique(np.asarray(pc.utf8_length(values))).tolist()),
            tuple(identifying),
        )

    def holds(self, found: np.ndarray) -> np.ndarray:
        """Which cell keys are identifying values."""
        return k.member(found, self.values)

    def find(self, folded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The starts and ends (code point positions) of every identifying value in a text
        given as code points (``keys.points``)."""
        starts, ends = [], []
        longest = max(self.lengths, default=0)
        for length, start, found in k.windows(folded, self.lengths):
            at = np.flatnonzero(k.member(found, self.text_values)) + start
            starts.append(at)
            # a value longer than keys.MAX_CHARS is found by its start: the span covers as
            # much as the longest value could, so that a redaction hides all of it
            reach = longest if length == k.MAX_CHARS else length
            ends.append(np.minimum(at + reach, len(folded)))
        if not starts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(starts), np.concatenate(ends)


def _identifying(text: pa.Array, min_cell: int) -> pa.Array | None:
    """The rare, long values of an identifying column, or None if the column is not one."""
    present = pc.fill_null(pc.not_equal(text, ""), False)
    rows = pc.sum(present).as_py() or 0
    counts = pc.value_counts(pc.filter(text, present))
    if rows == 0 or len(counts) <= DISTINCT_SHARE * rows:
        return None
    values, times = counts.field("values"), counts.field("counts")
    length = pc.utf8_length(values)
    long = pc.if_else(k.numeric(values), pc.greater_equal(length, MIN_DIGITS), True)
    rare = pc.and_(pc.less(times, min_cell), pc.greater_equal(length, MIN_CHARS))
    return pc.cast(pc.filter(values, pc.and_(rare, long)), pa.large_string())
