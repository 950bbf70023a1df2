"""Outputs that carry the inputs out: raw rows, identifying values and personal information.

- **Raw rows.** An output row is a raw row when it is a whole input row (any column order,
  names or types; extra output columns, such as a score appended to each row, do not hide
  it), or, in a derived table, when it repeats at least ``PARTIAL`` of one input record's
  values and no other input record shares those values (it singles the record out).
  Statistics tables are held to the whole row only: their group columns are combinations of
  input values by design, and the disclosure rules judge them. Input tables of fewer than
  ``PARTIAL`` columns are left to the raw-value check: a row of one or two values is as
  often a category as a record.
- **Raw values.** A cell, or text anywhere (the report, the log, metric names, file and
  column names), that holds an identifying input value (``index``), as it is or encoded.
  Cells are compared whole; free text (and long text cells) is searched for substrings.
- **Personal values.** The privacy screen's detectors (``yaosu.privacy.scan``) run over the
  text columns of every table (and the integer ones of derived tables) and over every text:
  a resident ID, phone, bank card, e-mail address... is never released, whatever its source.

Which output column came from which input column is read from the data, not the names: an
output column maps to the input column holding the largest share of its distinct values
(names break ties), so a renamed copy is found too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yaosu.compute.checks import keys as k
from yaosu.compute.checks.disclosure import EVIDENCE
from yaosu.compute.checks.index import InputIndex, Source
from yaosu.compute.checks.rules import Finding
from yaosu.kernel.i18n import Message, _
from yaosu.privacy.detectors import REGISTRY
from yaosu.privacy.scan import scan_table

PARTIAL = 3  # values of one record an output row must repeat to be its copy
FREE_TEXT = 24  # mean characters above which a text column is searched inside, as scan.py
SAMPLE = 100_000  # distinct values of an output column that decide which input column it is
HIDDEN = "***"  # what replaces a disclosive part of a name shown in a finding


def cell_keys(table: pa.Table) -> tuple[list[str], np.ndarray, list[pa.Array], list[bool]]:
    """The flat columns' names, their cells' keys (rows, columns), canonical texts, and
    which of them are text columns."""
    fields = [f for f in table.schema if k.flat(f.type)]
    texts = [k.canonical(table.column(f.name)) for f in fields]
    written = [k.text_type(f.type) for f in fields]
    return [f.name for f in fields], k.hashes(texts, table.num_rows), texts, written


def raw_rows(
    output: str,
    names: Sequence[str],
    cells: np.ndarray,
    *,
    index: InputIndex,
    statistics: bool,
) -> list[Finding]:
    """Rows of the output that are rows, or singled-out records, of an input table."""
    chosen = [j for j, n in enumerate(names) if not (statistics and n in EVIDENCE)]
    cells = cells[:, chosen]
    labels = [names[j].strip().lower() for j in chosen]
    findings = []
    for source in index.sources:
        if source.cells.shape[0] == 0 or source.cells.shape[1] < PARTIAL or cells.shape[0] == 0:
            continue  # a row of one or two values is as often a category as a record
        whole = np.zeros(cells.shape[0], bool)
        if cells.shape[1] == source.cells.shape[1]:
            whole = k.member(k.row_keys(cells), source.rows)
        pairs = _mapping(cells, labels, source)
        outs, ins = [j for j, _i in pairs], [i for _j, i in pairs]
        partial = np.zeros(cells.shape[0], bool)
        if len(pairs) == source.cells.shape[1]:
            whole |= k.member(k.row_keys(cells[:, outs]), source.rows)
        elif len(pairs) >= PARTIAL and not statistics:
            records, shared = np.unique(k.row_keys(source.cells[:, ins]), return_counts=True)
            projected = k.row_keys(cells[:, outs])
            at = np.minimum(np.searchsorted(records, projected), len(records) - 1)
            partial = (records[at] == projected) & (shared[at] == 1) & ~whole
        if whole.any():
            findings.append(
                Finding(
                    "raw_rows",
                    "fail",
                    output,
                    _(
                        "{cells} rows are rows of the input {table} (in any column order,"
                        " names or types)",
                        cells=int(whole.sum()),
                        table=source.name,
                    ),
                    int(whole.sum()),
                )
            )
        if partial.any():
            findings.append(
                Finding(
                    "raw_rows",
                    "fail",
                    output,
                    _(
                        "{cells} rows repeat {columns} values of one record of the input"
                        " {table} that no other record shares",
                        cells=int(partial.sum()),
                        columns=len(pairs),
                        table=source.name,
                    ),
                    int(partial.sum()),
                )
            )
    return findings


def _mapping(cells: np.ndarray, labels: Sequence[str], source: Source) -> list[tuple[int, int]]:
    """(output column, input column) pairs, one input column each: an output column goes
    to the input column that holds the largest share of its distinct values (a sample of
    ``SAMPLE`` of them: keys are hashes, so the smallest are a random sample)."""
    blank = k.hashes([pa.array(["", None], pa.large_string())], 2)[:, 0]
    ranked = []
    for j in range(cells.shape[1]):
        distinct = k.distinct(cells[:, j])
        distinct = distinct[~np.isin(distinct, blank)][:SAMPLE]
        if len(distinct) == 0:
            continue
        for i, held in enumerate(source.distinct):
            share = float(k.member(distinct, held).mean())
            if share > 0:
                ranked.append((share, labels[j] == source.columns[i], j, i))
    pairs: list[tuple[int, int]] = []
    taken_out: set[int] = set()
    taken_in: set[int] = set()
    for _share, _named, j, i in sorted(ranked, reverse=True):
        if j not in taken_out and i not in taken_in:
            pairs.append((j, i))
            taken_out.add(j)
            taken_in.add(i)
    return sorted(pairs)


def raw_values(
    output: str, texts: Sequence[pa.Array], written: Sequence[bool], *, index: InputIndex
) -> list[Finding]:
    """Cells that are identifying input values: as they are, reversed, or (in text columns,
    ``written``) decoded from base64 or hex; in free text, cells that hold one inside."""
    found = sum(
        int(held(text, index=index, encoded=text_column).sum())
        for text, text_column in zip(texts, written, strict=True)
    )
    if not found:
        return []
    message = _(
        "{cells} cells hold values of an identifying input column, as they are or encoded",
        cells=found,
    )
    return [Finding("raw_values", "fail", output, message, found)]


def held(text: pa.Array, *, index: InputIndex, encoded: bool = True) -> np.ndarray:
    """Which cells of a canonical text column hold an identifying value; ``encoded``: also
    encoded (a number's digits are not looked at as hex)."""
    reverse = pc.utf8_reverse(text)
    found = np.asarray(index.holds(k.hashes([text, reverse], len(text))).any(axis=1), bool)
    if (pc.mean(pc.utf8_length(text)).as_py() or 0) > FREE_TEXT:
        found |= _inside(text, index) | _inside(reverse, index)
    if encoded:
        parents, runs = k.tokens(text)
        found[parents[_decoded(runs, index)]] = True
    return found


def _decoded(runs: pa.Array, index: InputIndex) -> np.ndarray:
    """Which runs, read as base64 or hex, are or hold an identifying value."""
    hit = np.zeros(len(runs), bool)
    which, decoded = k.decodings(runs)
    plain = k.canonical(decoded)
    found = index.holds(k.hashes([plain], len(plain))[:, 0]) | _inside(plain, index)
    hit[which[found]] = True
    return hit


def _inside(text: pa.Array, index: InputIndex) -> np.ndarray:
    """Which cells hold an identifying value inside: one search over all the cells' text,
    each hit given to the cell it starts in (and only if it ends there too)."""
    folded, lengths = k.code_points(text)
    starts = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    begin, end = index.find(folded)
    row = np.searchsorted(starts, begin, side="right") - 1
    within = end <= starts[row] + lengths[row]
    found = np.zeros(len(lengths), bool)
    found[row[within]] = True
    return found


def personal(output: str, table: pa.Table, *, statistics: bool) -> list[Finding]:
    """Personal information in a table's text columns, and in a derived table's integer
    columns too (identifiers are often stored as numbers; a statistics table's integers
    are its sums and counts, not identifiers)."""
    screened = k.text_type if statistics else k.textual
    chosen = [field.name for field in table.schema if screened(field.type)]
    if not chosen or table.num_rows == 0:
        return []
    entities, cells = _screen(table.select(chosen))
    if not cells:
        return []
    message = _(
        "{cells} cells are personal information ({entities})", cells=cells, entities=entities
    )
    return [Finding("personal", "fail", output, message, cells)]


def _screen(table: pa.Table) -> tuple[list[str], int]:
    """The personal entities the privacy screen finds, and the rows holding one (in each
    column, the most any entity has; summed over the columns)."""
    entities: set[str] = set()
    cells = 0
    for column in scan_table(table).columns:
        found = [e for e in column.entities if e.personal]
        if found:
            cells += max(e.rows for e in found)
            entities.update(e.entity for e in found)
    return sorted(entities), cells


def text_leaks(output: str, what: Message, text: str, *, index: InputIndex) -> list[Finding]:
    """Identifying input values and personal information anywhere in a text."""
    return text_findings(output, what, *spans(text, index=index))


def text_findings(
    output: str,
    what: Message,
    raw: Sequence[tuple[int, int]],
    found: Sequence[tuple[int, int]],
    entities: list[str],
) -> list[Finding]:
    """The findings for a text (``what``) that holds identifying values at ``raw`` and
    personal information at ``found``."""
    findings = []
    if raw:
        message = _(
            "{what} holds {cells} values of an identifying input column, as they are or encoded",
            what=what,
            cells=len(raw),
        )
        findings.append(Finding("raw_values", "fail", output, message, len(raw)))
    if found:
        message = _(
            "{what} holds {cells} values that are personal information ({entities})",
            what=what,
            cells=len(found),
            entities=entities,
        )
        findings.append(Finding("personal", "fail", output, message, len(found)))
    return findings


def spans(
    text: str, *, index: InputIndex
) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[str]]:
    """Where a text holds identifying values and where personal information, and which
    personal entities. The screen runs over the text's lines as a one-column table; the
    detectors it found then give their places, on the lines their prefilter picks."""
    if not text:
        return [], [], []
    lines = text.split("\n")
    column = pa.array(lines, pa.large_string())
    entities, _cells = _screen(pa.table({"line": column}))
    starts = np.zeros(len(lines), np.int64)
    np.cumsum(np.array([len(line) + 1 for line in lines[:-1]], np.int64), out=starts[1:])
    found: list[tuple[int, int]] = []
    for entity in entities:
        detector = REGISTRY[entity]
        hit = pc.fill_null(pc.match_substring_regex(column, detector.prefilter), False)
        for row in np.flatnonzero(np.asarray(hit)).tolist():
            for match in detector.find(lines[row]):
                found.append((int(starts[row]) + match.start, int(starts[row]) + match.end))
    return _raw_spans(text, index), _merged(found), entities


def _raw_spans(text: str, index: InputIndex) -> list[tuple[int, int]]:
    """Where a text holds identifying values: as they are, reversed (found in the text read
    backwards), or inside a base64 or hex token (each token that decodes to text holding
    one is a span)."""
    folded = k.points(text)
    begin, end = index.find(folded)
    spans = list(zip(begin.tolist(), end.tolist(), strict=True))
    back, until = index.find(folded[::-1].copy())
    spans += [
        (len(folded) - b, len(folded) - a)
        for a, b in zip(back.tolist(), until.tolist(), strict=True)
    ]
    runs = k.text_tokens(text)
    words = pa.array([text[a:b] for a, b in runs], pa.large_string())
    spans += [runs[i] for i in np.flatnonzero(_decoded(words, index)).tolist()]
    return _merged(spans)


def _merged(found: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def redacted(text: str, hidden: Iterable[tuple[int, int]], marker: str) -> str:
    """The text with each span replaced by the marker.

    >>> redacted("call 13800138000 now", [(5, 16)], "[x]")
    'call [x] now'
    """
    parts, at = [], 0
    for start, end in _merged(hidden):
        parts += [text[at:start], marker]
        at = end
    return "".join([*parts, text[at:]])


def names(
    lines: Sequence[str], *, index: InputIndex, output: str = ""
) -> tuple[list[str], list[Finding]]:
    """Names (of outputs, files, columns) checked as one text, one name a line; each comes
    back as a finding may show it, with identifying and personal values hidden."""
    text = "\n".join(lines)
    raw, found, entities = spans(text, index=index)
    hidden = _merged([*raw, *found])
    shown, at = [], 0
    for line in lines:
        end = at + len(line)
        inside = [(max(a, at) - at, min(b, end) - at) for a, b in hidden if a < end and b > at]
        shown.append(redacted(line, inside, HIDDEN))
        at = end + 1
    what = _("the column names") if output else _("the names of the outputs and files")
    return shown, text_findings(output, what, raw, found, entities)


@k.connection()
def check_log(log: str, *, index: InputIndex, locale: str = "zh-CN") -> tuple[str, list[Finding]]:
    """A job's log is an output too: it comes back with every identifying and personal
    value replaced by a marker (in ``locale``), with the findings that say what was hidden.
    A log that held such values fails the job's release, as a table holding them would."""
    raw, found, entities = spans(log, index=index)
    marker = _("[redacted]").render(locale)
    return redacted(log, [*raw, *found], marker), text_findings(
        "", _("the log"), raw, found, entities
    )
