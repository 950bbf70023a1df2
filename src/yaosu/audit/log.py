"""The transparency log behind the audit table: append, roots, proofs, checkpoints.

The tree is stored as the hashes of its perfect subtrees, ``(level, idx)``, where the
node covers leaves ``[idx * 2**level, (idx + 1) * 2**level)``. Appending leaf ``n``
adds the leaf and the subtrees it completes (two rows on average) using the right
edge kept in ``audit_log_state``; the state row is locked for the append, so leaf
indices follow commit order with no gaps, and a rolled-back transaction leaves no
leaf. Any root, inclusion proof or consistency proof at a stated size needs only
O(log n) stored nodes, read in one query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache, partial
from typing import Any
from weakref import WeakKeyDictionary

import rfc8785
from sqlalchemy import Engine, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from yaosu.audit.models import AuditEntry, Checkpoint, LogState, TreeNode
from yaosu.audit.verify import leaf_hash, node_hash
from yaosu.kernel.db import locked
from yaosu.kernel.errors import LogCorrupt

__all__ = ["LogCorrupt"]

EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


FIELDS = (
    ("at", "at"),
    ("actor", "actor_id"),
    ("actor_org", "actor_org_id"),
    ("action", "action"),
    ("object_type", "object_type"),
    ("object_id", "object_id"),
    ("object_org", "object_org_id"),
    ("decision", "decision"),
    ("reason", "reason"),
    ("request_hash", "request_hash"),
    ("detail", "detail"),
)


def canonical(entry: AuditEntry | Mapping[str, Any]) -> bytes:
    """The leaf data: the entry as RFC 8785 canonical JSON. Its position is the leaf index."""
    get = entry.__getitem__ if isinstance(entry, Mapping) else partial(getattr, entry)
    doc = {name: get(column) for name, column in FIELDS}
    doc["at"] = get("at").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if not doc["detail"] or _plain(doc["detail"]):
        # For strings, integers, booleans and null under ASCII keys, sorted json.dumps is
        # byte-for-byte RFC 8785 (a property test holds it to rfc8785), and 20x faster.
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if not _SURROGATE.search(text):
            return text.encode()
    return rfc8785.dumps(doc)


def _plain(value: Any) -> bool:
    """Only the types whose JSON text json.dumps and RFC 8785 agree on (strings are
    checked for lone surrogates on the whole text afterwards)."""
    if value is None or isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        return -(2**53) < value < 2**53
    if isinstance(value, dict):
        return all(k.isascii() and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return False  # floats and anything else take the reference implementation


_SURROGATE = re.compile("[\ud800-\udfff]")


AUDIT_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]
AUDIT_TREE: Table = TreeNode.__table__  # type: ignore[assignment]
LOG_STATE: Table = LogState.__table__  # type: ignore[assignment]
# Built once: every write in the application runs these.
_LOCK = locked(select(LOG_STATE.c.size, LOG_STATE.c.frontier).where(LOG_STATE.c.id == 1))
_INSERT_ENTRIES = insert(AUDIT_ENTRIES)
_ADVANCE = (
    update(LOG_STATE)
    .where(LOG_STATE.c.id == 1)
    .values(size=bindparam("new_size"), frontier=bindparam("new_frontier"))
)

# --- appends -------------------------------------------------------------------------------


def lock_state(session: Session) -> LogState:
    """The state row, locked until the transaction ends (SQLite's BEGIN IMMEDIATE already
    serialises writers; PostgreSQL takes the row lock)."""
    state = session.scalar(locked(select(LogState).where(LogState.id == 1)))
    if state is None:
        state = LogState(id=1, size=0, frontier=[])
        session.add(state)
        session.flush()
    return state


def append(session: Session, *, entries: list[dict[str, Any]]) -> None:
    """Gives each entry (column values) the next leaf index, in order, inserts it and adds
    its hashes to the tree. Core inserts, not the ORM: this is every write's hot path."""
    session.info["audit_appended"] = True
    connection = session.connection()
    locked = connection.execute(_LOCK).first()
    if locked is None:
        lock_state(session)  # first append ever: create the row
        locked = connection.execute(_LOCK).first()
        assert locked is not None
    index, frontier = locked.size, list(locked.frontier)
    nodes: list[tuple[int, int, str]] = []
    for entry in entries:
        entry["leaf_index"] = index
        grown, frontier = _grow(index, leaf_hash(canonical(entry)), frontier)
        nodes.extend((lv, ix, h.hex()) for lv, ix, h in grown)
        index += 1
    connection.execute(_INSERT_ENTRIES, entries)
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(  # placeholders only; the driver's executemany binds every value
        f"INSERT INTO audit_tree (level, idx, hash) VALUES ({mark}, {mark}, {mark})", nodes
    )
    connection.execute(_ADVANCE, {"new_size": index, "new_frontier": frontier})
    loaded = session.identity_map.get(session.identity_key(LogState, (1,)))
    if loaded is not None:  # keep an ORM copy already loaded in this session truthful
        session.expire(loaded)


def _grow(
    index: int, leaf: bytes, frontier: list[str]
) -> tuple[list[tuple[int, int, bytes]], list[str]]:
    """Nodes completed by appending ``leaf`` at ``index``, and the new right edge.

    >>> nodes, edge = _grow(1, b"\\x02" * 32, [(b"\\x01" * 32).hex()])
    >>> [(level, idx) for level, idx, _ in nodes], len(edge)
    ([(0, 1), (1, 0)], 1)
    """
    nodes = [(0, index, leaf)]
    h, level, i = leaf, 0, index
    while i & 1:  # a right child: merge with the left sibling on the edge
        h = node_hash(bytes.fromhex(frontier.pop()), h)
        level, i = level + 1, i >> 1
        nodes.append((level, i, h))
    frontier.append(h.hex())
    return nodes, frontier


def size(session: Session) -> int:
    state = session.get(LogState, 1)
    return state.size if state else 0


# --- reading the tree at a stated size -----------------------------------------------------


@lru_cache(maxsize=1 << 16)  # proofs on one tree reuse the same right-edge ranges
def _perfect(start: int, end: int) -> tuple[tuple[int, int], ...]:
    """[start, end) as perfect subtrees, left to right (start is aligned, as in every
    range an RFC 6962 proof uses).

    >>> _perfect(0, 7)
    ((2, 0), (1, 2), (0, 6))
    """
    out = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return tuple(out)


# Committed tree nodes never change (the table is append-only), so the upper levels, which
# every proof shares, are kept in memory per database: a proof then reads only the few
# low-level siblings on its path. Filled only by transactions that appended nothing.
CACHED_LEVEL = 4  # nodes covering 16+ leaves: a sixteenth as many as leaves, ~10 MB per 1M
_upper: WeakKeyDictionary[Engine, dict[tuple[int, int], bytes]] = WeakKeyDictionary()


def _fetch(
    session: Session, keys: Iterable[tuple[int, int]], *, committed: bool = False
) -> dict[tuple[int, int], bytes]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    # A transaction that appended sees its own uncommitted nodes: it must not fill the cache.
    committed = committed and not session.info.get("audit_appended")
    cache = _upper.setdefault(session.get_bind().engine, {}) if committed else {}
    known = {k: cache[k] for k in wanted if k in cache}
    if known:
        wanted = [k for k in wanted if k not in known]
        if not wanted:
            return known
    by_level: dict[int, list[int]] = {}
    for level, idx in wanted:
        by_level.setdefault(level, []).append(idx)
    # One query, one primary-key lookup list per level (a row-value IN list makes SQLite
    # scan). Proofs are the read hot path, so the statement goes straight to the driver:
    # the SQL text holds only placeholders, every value is bound.
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    clauses, params = [], []
    for level, idxs in by_level.items():
        clauses.append(f"(level = {mark} AND idx IN ({', '.join([mark] * len(idxs))}))")
        params.extend([level, *idxs])
    sql = "SELECT level, idx, hash FROM audit_tree WHERE " + " OR ".join(clauses)
    rows = connection.exec_driver_sql(sql, tuple(params)).all()
    found = {(lv, ix): bytes.fromhex(h) for lv, ix, h in rows}
    if len(found) != len(wanted):
        missing = [k for k in wanted if k not in found][:3]
        raise LogCorrupt(problem=f"tree nodes missing: {missing}")
    if committed:
        if len(cache) > 1 << 19:  # bounded: a very large log re-reads its upper levels
            cache.clear()
        cache.update((k, h) for k, h in found.items() if k[0] >= CACHED_LEVEL)
    return found | known


def _range_hash(nodes: dict[tuple[int, int], bytes], start: int, end: int) -> bytes:
    parts = [nodes[k] for k in _perfect(start, end)]
    h = parts[-1]
    for left in reversed(parts[:-1]):
        h = node_hash(left, h)
    return h


def _hashes(
    session: Session, ranges: list[tuple[int, int]], *, committed: bool = False
) -> list[bytes]:
    nodes = _fetch(session, (k for s, e in ranges for k in _perfect(s, e)), committed=committed)
    return [_range_hash(nodes, s, e) for s, e in ranges]


def root(session: Session, *, tree_size: int) -> bytes:
    if tree_size == 0:
        return EMPTY_ROOT
    return _hashes(session, [(0, tree_size)])[0]


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _path(m: int, start: int, n: int) -> list[tuple[int, int]]:
    """RFC 6962 PATH(m, D[start:start+n]) as leaf ranges, bottom-up."""
    if n <= 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, start, k), (start + k, start + n)]
    return [*_path(m - k, start + k, n - k), (start, start + k)]


def _subproof(m: int, start: int, n: int, whole: bool) -> list[tuple[int, int]]:
    """RFC 6962 SUBPROOF(m, D[start:start+n], b) as leaf ranges."""
    if m == n:
        return [] if whole else [(start, start + n)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, start, k, whole), (start + k, start + n)]
    return [*_subproof(m - k, start + k, n - k, False), (start, start + k)]


def inclusion_proof(session: Session, *, index: int, tree_size: int) -> list[bytes]:
    """Proof for leaf ``index`` in the tree of ``tree_size``, which must be committed
    (callers pass a checkpoint's size)."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of size {tree_size}")
    return _hashes(session, _path(index, 0, tree_size), committed=True)


def consistency_proof(session: Session, *, old: int, new: int) -> list[bytes]:
    """Proof that tree ``old`` is a prefix of tree ``new``; both sizes must be committed."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from size {old} to {new}")
    return _hashes(session, _subproof(old, 0, new, True), committed=True)


# --- checkpoints ---------------------------------------------------------------------------


def checkpoint_body(origin: str, tree_size: int, tree_root: bytes) -> str:
    import base64

    return f"{origin}\n{tree_size}\n{base64.b64encode(tree_root).decode()}\n"


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1)).first()


def checkpoint_at(session: Session, *, tree_size: int) -> Checkpoint | None:
    return session.get(Checkpoint, tree_size)


# --- scans (tamper checks and export) ------------------------------------------------------


def iter_entries(session: Session, *, batch: int = 5000) -> Iterator[AuditEntry]:
    last = -1
    while True:
        rows = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.leaf_index > last)
                .order_by(AuditEntry.leaf_index)
                .limit(batch)
            )
        )
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].leaf_index
        session.expunge_all()


def iter_leaves(session: Session, *, batch: int = 50000) -> Iterator[tuple[int, bytes]]:
    last = -1
    while True:
        rows = session.execute(
            select(TreeNode.idx, TreeNode.hash)
            .where(TreeNode.level == 0, TreeNode.idx > last)
            .order_by(TreeNode.idx)
            .limit(batch)
        ).all()
        for idx, h in rows:
            yield idx, bytes.fromhex(h)
        if len(rows) < batch:
            return
        last = rows[-1][0]
