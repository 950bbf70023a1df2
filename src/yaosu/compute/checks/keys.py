"""Values as comparable text, and text as 64-bit keys, computed for whole columns at once.

Every check that compares an output with the inputs compares keys, never Python values:

- ``canonical`` turns a column of any flat type into text that is the same whatever type the
  algorithm gave it: int 5, "5", 5.0 and "5.00" all read "5"; a date and a midnight timestamp
  read the same; text is NFKC-normalised (full-width digits become digits) and trimmed.
- ``hashes`` keys each cell of some columns (DuckDB's ``hash`` of the lower-cased text, run
  over Arrow without a copy): what rows, columns and whole cells are compared by.
- ``value_keys`` and ``windows`` are a second key, a polynomial hash over code points (ASCII
  letters folded): ``windows`` gives the key of every substring of a text of the wanted
  lengths (a rolling hash), so identifying values are found inside free text without a
  Python loop over them, and ``value_keys`` gives the same key to a whole value.
- ``row_keys`` combines a row's cell keys in sorted order: the key of a row does not depend on
  the order, names or types of its columns.
- ``tokens`` and ``decodings`` read the runs of text that may be base64 or hex as UTF-8.

Equal keys mean equal text but for a 2^-64 chance (or a crafted collision, which only makes an
output fail that could have passed).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAX_CHARS = 64  # in free text, a longer value is found by its first 64 characters
CHUNK = 1 << 20  # characters of text searched at a time, to bound memory
_BASE = 0x100000001B3  # odd, so no position's weight vanishes modulo 2^64
_LENGTH = 0x9E3779B97F4A7C15
_ROW = 0xC2B2AE3D27D4EB4F
# Position weights; a character past MAX_CHARS weighs 0 (it is cut off)
_WEIGHTS = np.array([pow(_BASE, j, 2**64) for j in range(MAX_CHARS)] + [0], dtype=np.uint64)
_FOLD = np.arange(128, dtype=np.uint64)
_FOLD[65:91] += 32  # A-Z to a-z: a fold that keeps every position where it was

# base64 (standard or URL-safe alphabet) and hex hide in runs of their alphabets; a run of 8 or
# more characters is decoded, as base64 (padded or not) and as hex, and read as UTF-8 text
_ALPHABETS = ("A-Za-z0-9+/", "A-Za-z0-9_\\-", "0-9A-Fa-f")
_RUNS = tuple(f"[{a}]{{8,}}" for a in _ALPHABETS)
_SPLITS = tuple(f"[^{a}]+" for a in _ALPHABETS)  # padding "=" splits a run from the next
# hex of well-formed UTF-8 text (printable ASCII, tab and line breaks, multi-byte sequences):
# what is not cannot hold an identifier and is not decoded (DuckDB's decode of invalid UTF-8
# raises, and a raise per cell is slow)
_UTF8_HEX = (
    r"^(?:[2-7][0-9a-f]|0[9ad]|c[2-9a-f][89ab][0-9a-f]|d[0-9a-f][89ab][0-9a-f]"
    r"|e[0-9a-f](?:[89ab][0-9a-f]){2}|f[0-4](?:[89ab][0-9a-f]){3})+$"
)
_FROM_BASE64 = """
SELECT lower(hex(try(from_base64(rpad(translate(v, '-_', '+/'),
  ((length(v) + 3) // 4 * 4)::INTEGER, '='))))) AS v FROM t
"""
_FROM_HEX = "SELECT try(decode(unhex(v))) AS v FROM t"


def flat(kind: pa.DataType) -> bool:
    """Whether ``canonical`` reads this type: numbers, text, dates, times and booleans.
    Nested and binary values are not, so the checks refuse them instead of passing them."""
    if pa.types.is_dictionary(kind):
        return flat(kind.value_type)
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date(kind)
        or pa.types.is_time(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_duration(kind)
        or pa.types.is_null(kind)
        or text_type(kind)
    )


def text_type(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return text_type(kind.value_type)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def textual(kind: pa.DataType) -> bool:
    """Text, or an integer (identifiers and phone numbers are often stored as numbers)."""
    if pa.types.is_dictionary(kind):
        return textual(kind.value_type)
    return text_type(kind) or pa.types.is_integer(kind)


def canonical(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Comparable text of a column (large_string; null stays null).

    >>> canonical(pa.array([5, None])).to_pylist()
    ['5', None]
    >>> canonical(pa.array([5.0, 0.25, -0.0])).to_pylist()
    ['5', '0.25', '0']
    >>> canonical(pa.array([" 5.00 ", "５", "Ab", "-0"])).to_pylist()
    ['5', '5', 'Ab', '0']
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        # the dictionary's values once, then each row's by its index: text read as the file
        # stores it is never decoded row by row
        return pc.take(canonical(values.dictionary), values.indices)
    kind = values.type
    if text_type(kind):
        text = values
        if not pc.all(pc.string_is_ascii(text)).as_py():
            text = pc.utf8_normalize(text, "NFKC")
        text = pc.utf8_trim_whitespace(text)
    elif pa.types.is_floating(kind):
        number = pc.cast(values, pa.float64())
        whole = pc.and_(pc.equal(pc.floor(number), number), pc.less(pc.abs(number), 2.0**53))
        as_int = pc.cast(pc.if_else(whole, number, 0.0), pa.int64(), safe=False)
        text = pc.if_else(whole, pc.cast(as_int, pa.string()), pc.cast(number, pa.string()))
    elif pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        text = pc.cast(values, pa.string())
        text = pc.replace_substring_regex(text, r"[ T]00:00:00(\.0+)?$", "")
    elif flat(kind):
        text = pc.cast(values, pa.string())
    else:
        raise TypeError(f"no canonical text for {kind}")
    text = pc.cast(text, pa.large_string())
    if pc.any(pc.match_substring(text, ".")).as_py():
        # "5.00" and "5.0" are 5, "2.50" is 2.5: numbers written as text compare as numbers
        text = pc.replace_substring_regex(text, r"^(-?[0-9]+)\.0*$", r"\1")
        text = pc.replace_substring_regex(text, r"^(-?[0-9]*\.[0-9]*?)0+$", r"\1")
    return pc.if_else(pc.equal(text, "-0"), "0", text)


def numeric(text: pa.Array) -> pa.Array:
    """Whether each canonical text is a number (``-12``, ``3.5``)."""
    return pc.fill_null(pc.match_substring_regex(text, r"^-?[0-9]+(\.[0-9]+)?$"), False)


_LOCAL = threading.local()


@contextmanager
def connection() -> Iterator[None]:
    """One in-memory DuckDB for this thread's queries inside (opening one costs more than
    hashing a small table), closed at the end: a DuckDB left open in a process broke the
    processes it forked later (Spark's gateway died at its start, or the fork segfaulted).
    Used as a decorator on the checks' entry points; nested uses share the outer one."""
    if getattr(_LOCAL, "db", None) is not None:
        yield
        return
    db = _LOCAL.db = duckdb.connect()
    try:
        db.execute("SET enable_progress_bar = false")
        yield
    finally:
        _LOCAL.db = None
        db.close()


def _sql(query: str, table: pa.Table) -> pa.Table:
    """A query over one Arrow table ``t`` (read in place), on this thread's DuckDB."""
    db = getattr(_LOCAL, "db", None)
    if db is None:
        with connection():
            return _sql(query, table)
    db.register("t", table)
    try:
        return db.sql(query).to_arrow_table()
    finally:
        db.unregister("t")


def hashes(texts: Sequence[pa.Array], rows: int) -> np.ndarray:
    """The key of every cell of some canonical columns, (rows, columns), case-insensitive."""
    if not texts:
        return np.zeros((rows, 0), np.uint64)
    table = pa.table({f"c{i}": text for i, text in enumerate(texts)})
    query = ", ".join(f"hash(lower(c{i})) AS c{i}" for i in range(len(texts)))
    result = _sql(f"SELECT {query} FROM t", table)
    return np.stack([np.asarray(column, dtype=np.uint64) for column in result.columns], axis=1)


def tokens(text: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """The runs of text in each cell that may be base64 or hex, and the cell each came from."""
    parents, found = [], []
    for split in _SPLITS:
        parts = pc.split_pattern_regex(pc.fill_null(text, ""), split)
        flat_parts = pc.list_flatten(parts)
        long = pc.greater_equal(pc.utf8_length(flat_parts), 8)
        parents.append(np.asarray(pc.filter(pc.list_parent_indices(parts), long)))
        found.append(pc.cast(pc.filter(flat_parts, long), pa.large_string()))
    return np.concatenate(parents), pa.concat_arrays(found)


def text_tokens(text: str) -> list[tuple[int, int]]:
    """Where the runs that may be base64 or hex sit in a text (as ``tokens`` finds them)."""
    return sorted({m.span() for run in _RUNS for m in re.finditer(run, text)})


def decodings(found: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """The runs that read as base64 or as hex of UTF-8 text, and that text: (which run, its
    text), a run once for each way it reads."""
    found = pc.cast(found, pa.large_string())
    length = np.asarray(pc.utf8_length(found))
    which = np.flatnonzero(length % 4 != 1)  # no base64 is 1 more than a multiple of 4 long
    as_hex = [
        _sql(_FROM_BASE64, pa.table({"v": found.take(which)})).column(0).combine_chunks(),
        pc.utf8_lower(found),
    ]
    runs = np.concatenate([which, np.arange(len(found))])
    text = pc.fill_null(pa.concat_arrays([pc.cast(a, pa.large_string()) for a in as_hex]), "")
    readable = np.flatnonzero(np.asarray(pc.match_substring_regex(text, _UTF8_HEX)))
    if len(readable) == 0:
        return np.zeros(0, np.int64), pa.array([], pa.large_string())
    decoded = _sql(_FROM_HEX, pa.table({"v": text.take(readable)})).column(0).combine_chunks()
    return runs[readable], pc.cast(decoded, pa.large_string())


def code_points(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The code points of a string array, concatenated and ASCII-folded (uint64), and each
    value's length in code points."""
    text = pc.cast(pc.fill_null(text, ""), pa.large_string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[
        text.offset : text.offset + len(text) + 1
    ]
    buffer = text.buffers()[2]
    data = (
        np.frombuffer(buffer, np.uint8)[offsets[0] : offsets[-1]]
        if buffer is not None and len(offsets)
        else np.zeros(0, np.uint8)
    )
    if len(data) == 0 or data.max() < 128:
        return _FOLD[data], np.diff(offsets)
    lengths = np.asarray(pc.utf8_length(text), dtype=np.int64)
    return points(data.tobytes().decode("utf-8")), lengths


def points(text: str) -> np.ndarray:
    """The code points of a Python string, ASCII-folded, for ``windows``."""
    raw = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return np.where(raw < 128, _FOLD[raw & 127], raw.astype(np.uint64))


def value_keys(text: pa.Array) -> np.ndarray:
    """The polynomial key of each value of a string array (its first MAX_CHARS characters):
    the key ``windows`` gives the same text inside a longer one."""
    step = 1 << 16  # values at a time: the per-character arrays stay in the CPU's caches
    parts = [_value_keys(text.slice(at, step)) for at in range(0, len(text), step)]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def _value_keys(text: pa.Array) -> np.ndarray:
    folded, lengths = code_points(text)
    if len(lengths) == 0:
        return np.zeros(0, np.uint64)
    starts = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    position = np.arange(len(folded), dtype=np.int64)
    position -= np.repeat(starts, lengths)
    np.minimum(position, MAX_CHARS, out=position)
    # each value's sum of weighted code points, as differences of one running sum
    running = np.concatenate([np.zeros(1, np.uint64), np.cumsum(folded * _WEIGHTS[position])])
    sums = running[starts + lengths] - running[starts]
    return _mix(sums + np.minimum(lengths, MAX_CHARS).astype(np.uint64) * np.uint64(_LENGTH))


def windows(folded: np.ndarray, lengths: Iterable[int]) -> Iterator[tuple[int, int, np.ndarray]]:
    """For each wanted length n, ``(n, start, keys)``: ``keys[i]`` is the key ``value_keys``
    would give the substring of n code points at ``start + i``. Built up one length at a time
    (a window of n + 1 characters is one of n and one more), in chunks that overlap by
    ``MAX_CHARS`` so that no window is cut."""
    wanted = sorted({min(n, MAX_CHARS) for n in lengths if n > 0})
    if not wanted:
        return
    for start in range(0, len(folded), CHUNK):
        chunk = folded[start : start + CHUNK + MAX_CHARS]
        last = len(folded) - start <= CHUNK + MAX_CHARS  # windows may run to the chunk's end
        total = np.zeros(len(chunk), np.uint64)
        for n in range(1, min(wanted[-1], len(chunk)) + 1):
            total[: len(chunk) - n + 1] += chunk[n - 1 :] * _WEIGHTS[n - 1]
            if n in wanted:
                # only the windows that start in this chunk: the next chunk has the others
                count = len(chunk) - n + 1 if last else min(CHUNK, len(chunk) - n + 1)
                yield n, start, _mix(total[:count] + _times_length(n))
        if last:
            return


def row_keys(cells: np.ndarray) -> np.ndarray:
    """One key per row of a (rows, columns) array of cell keys, the same in any column
    order: the sorted keys, combined as the digits of a polynomial."""
    ordered = np.sort(cells, axis=1)
    combined = (ordered * _row_weights(cells.shape[1])).sum(axis=1, dtype=np.uint64)
    return _mix(combined + _times_length(cells.shape[1]))


def distinct(found: np.ndarray) -> np.ndarray:
    """The sorted distinct keys (by sorting: NumPy's hash-based unique is far slower here)."""
    ordered = np.sort(found)
    if len(ordered) == 0:
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def member(found: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Which keys of ``found`` are in the sorted distinct array ``among``."""
    if len(among) == 0:
        return np.zeros(found.shape, bool)
    at = np.minimum(np.searchsorted(among, found), len(among) - 1)
    return among[at] == found


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads a polynomial hash's bits over the whole key."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _times_length(n: int) -> np.uint64:
    # in Python integers: NumPy warns when a product of two scalars wraps
    return np.uint64(n * _LENGTH % 2**64)


@cache
def _row_weights(columns: int) -> np.ndarray:
    return np.array([pow(_ROW, j, 2**64) for j in range(1, columns + 1)], dtype=np.uint64)
