"""Screening a table for personal information, column by column, vectorised.

For each text (or integer) column and each detector, Arrow runs the detector's RE2
prefilter over the whole column; only the distinct candidate values are then checked in
Python (the precise pattern and the checksum), once each, and their row counts come from
Arrow's value counts. Findings carry shares of rows, confidence and masked evidence;
free-text columns also keep where in the text each match sits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yaosu.privacy.detectors import REGISTRY, Detector, Match

MAX_CELL = 100_000  # characters of one cell that are scanned (a 1 MB cell is cut, not choked on)
MIN_ROWS = 1  # a column is reported when at least this many rows hold the entity


def mask(text: str) -> str:
    """Evidence without the secret: "110105********002X", "张*".

    >>> mask("11010519491231002X"), mask("张三"), mask("ab")
    ('110*************2X', '张*', 'a*')
    """
    if len(text) <= 2:
        return text[0] + "*"
    if len(text) <= 4:
        return text[0] + "*" * (len(text) - 1)
    return text[:3] + "*" * (len(text) - 5) + text[-2:]


@dataclass
class EntityFinding:
    entity: str
    rows: int
    share: float
    confidence: float
    personal: bool
    sensitive: str | None
    samples: list[str]
    positions: list[tuple[int, int, int]] = field(default_factory=list)  # (row, start, end)
    # Rows where the entity sits inside a longer text (联系人张伟, a phone number in a remark)
    # rather than filling the cell: such a column is cleaned by masking the spans found.
    in_text: int = 0


@dataclass
class ColumnFinding:
    column: str
    free_text: bool
    entities: list[EntityFinding]


@dataclass
class Screen:
    rows: int
    columns: list[ColumnFinding]

    @property
    def personal(self) -> bool:
        return any(e.personal for c in self.columns for e in c.entities)

    @property
    def sensitive_categories(self) -> list[str]:
        return sorted(
            {e.sensitive for c in self.columns for e in c.entities if e.personal and e.sensitive}
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "personal_information": self.personal,
            "sensitive_categories": self.sensitive_categories,
            "columns": [
                {
                    "column": c.column,
                    "free_text": c.free_text,
                    "entities": [
                        {k: v for k, v in e.__dict__.items() if k != "positions"}
                        | {"positions": e.positions[:20]}
                        for e in c.entities
                    ],
                }
                for c in self.columns
                if c.entities
            ],
        }


def scan_table(
    table: pa.Table,
    *,
    detectors: list[Detector] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Screen:
    """Scans every column; ``progress(fraction, column)`` is told after each one."""
    chosen = detectors or list(REGISTRY.values())
    findings = []
    for i, name in enumerate(table.column_names):
        findings.append(_scan_column(name, table.column(name), chosen))
        if progress is not None:
            progress((i + 1) / max(1, table.num_columns), name)
    return Screen(table.num_rows, findings)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_integer(kind):
        return pc.cast(column, pa.string())  # identifiers and phone numbers stored as numbers
    if pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type):
        return pc.cast(column, pa.string())
    return None  # numbers, dates, binary: nothing a text detector can read


def _scan_column(name: str, column: pa.ChunkedArray, detectors: list[Detector]) -> ColumnFinding:
    text = _as_text(column)
    if text is None and (pa.types.is_date(column.type) or pa.types.is_timestamp(column.type)):
        return ColumnFinding(name, False, _dates(name, column, detectors))
    if text is None or len(column) == 0:
        return ColumnFinding(name, False, [])
    text = pc.utf8_slice_codeunits(text, 0, MAX_CELL)
    lengths = pc.utf8_length(text)
    mean = pc.mean(lengths).as_py() or 0
    free_text = mean > 24
    rows = len(column)
    entities = []
    # Detectors run in registry order (checksum-backed first); a span one has claimed is not
    # counted again by a later one (an 18-digit resident ID that happens to pass Luhn is not
    # also a bank card).
    claimed: dict[str, list[tuple[int, int]]] = {}
    # Rows whose whole cell a detector has claimed on the vectorised path leave ``open_text``,
    # so later detectors never look at them (a resident-ID column is done after one detector).
    open_text = text.combine_chunks()
    for detector in detectors:
        in_context = detector.hinted_by(name)
        hit = pc.fill_null(pc.match_substring_regex(open_text, detector.prefilter), False)
        candidates = pc.filter(open_text, hit)
        if len(candidates) == 0:
            continue
        matched_rows, confidence_sum, in_text = 0, 0.0, 0
        samples: list[str] = []
        if detector.vector is not None and detector.whole is not None and not free_text:
            whole = pc.fill_null(pc.match_substring_regex(candidates, detector.whole), False)
            if claimed:  # cells an earlier detector matched in part go the per-value way
                seen = pa.array(list(claimed), pa.string())
                whole = pc.and_(whole, pc.invert(pc.is_in(candidates, value_set=seen)))
            cells = pc.filter(candidates, whole)
            verdicts = detector.vector(cells)
            valid = ~np.isnan(verdicts)
            matched_rows += int(valid.sum())
            confidence_sum += float(verdicts[valid].sum())
            samples = [mask(v) for v in cells.filter(pa.array(valid)).slice(0, 3).to_pylist()]
            # The cells that matched whole were judged (valid or not) and are off the table
            # for this detector; only those that did not go the per-value way below.
            hit_rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
            whole_np = whole.to_numpy(zero_copy_only=False)
            closed = np.zeros(len(open_text), bool)
            closed[hit_rows[whole_np][valid]] = True
            open_text = open_text.filter(pa.array(~closed))
            candidates = pc.filter(candidates, pc.invert(whole))
        counts = pc.value_counts(candidates)
        matched_values: dict[str, list[Match]] = {}
        distinct = counts.field("values").to_pylist()
        for value, count in zip(distinct, counts.field("counts").to_pylist(), strict=True):
            taken = claimed.get(value, [])
            if any(start == 0 and end >= len(value) for start, end in taken):
                continue  # the whole value is already something: no other detector need look
            found = [
                m
                for m in detector.find(value, in_context=in_context)
                if not any(m.start < end and start < m.end for start, end in taken)
            ]
            if not found:
                continue
            claimed.setdefault(value, []).extend((m.start, m.end) for m in found)
            matched_values[value] = found
            matched_rows += count
            if any(m.start > 0 or m.end < len(value) for m in found):
                in_text += count
            confidence_sum += count * max(m.confidence for m in found)
            if len(samples) < 3:
                samples.append(mask(found[0].text))
        if matched_rows < MIN_ROWS:
            continue
        confidence = confidence_sum / matched_rows
        if in_context:
            confidence = min(0.99, confidence + 0.1)
        positions: list[tuple[int, int, int]] = []
        if free_text or in_text:
            positions = _positions(text, matched_values)
        entities.append(
            EntityFinding(
                detector.entity,
                matched_rows,
                round(matched_rows / rows, 6),
                round(confidence, 3),
                detector.personal,
                detector.sensitive,
                samples,
                positions,
                in_text,
            )
        )
    return ColumnFinding(name, free_text, entities)


def _dates(name: str, column: pa.ChunkedArray, detectors: list[Detector]) -> list[EntityFinding]:
    """A date column is personal information when its header says whose birth date it is."""
    birth = next((d for d in detectors if d.entity == "DATE_OF_BIRTH"), None)
    present = len(column) - column.null_count
    if birth is None or not birth.hinted_by(name) or present == 0:
        return []
    return [
        EntityFinding(
            birth.entity,
            present,
            round(present / len(column), 6),
            0.9,
            birth.personal,
            birth.sensitive,
            [],
            [],
        )
    ]


def _positions(
    text: pa.ChunkedArray, matched: dict[str, list[Match]], limit: int = 1000
) -> list[tuple[int, int, int]]:
    """Where matches sit in free text: (row, start, end), for the first ``limit`` rows hit."""
    wanted = pa.array(list(matched), pa.string())
    rows = pc.indices_nonzero(pc.is_in(text, value_set=wanted)).to_pylist()[:limit]
    values = text.take(rows).to_pylist()
    return [
        (row, m.start, m.end)
        for row, value in zip(rows, values, strict=True)
        for m in matched[value]
    ]
