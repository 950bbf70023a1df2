"""The audit log's tables.

``audit_entries`` holds the entries (append-only: database triggers refuse UPDATE and
DELETE). ``audit_tree`` holds the RFC 6962 tree as stored hashes of perfect subtrees,
(level, index) -> hash, leaves at level 0; ``audit_log_state`` is the one row that
serialises appends and keeps the right edge of the tree. Checkpoints are the log's
signed statements; witnesses co-sign them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.kernel.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    # Storage order. BigInteger on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # Log order: the leaf's index in the Merkle tree, gapless, assigned under the state lock.
    leaf_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[str] = mapped_column(String(64), index=True)
    actor_org_id: Mapped[str | None] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    object_org_id: Mapped[str | None] = mapped_column(String(40), index=True)
    decision: Mapped[str] = mapped_column(String(8))  # allow | deny
    reason: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class TreeNode(Base):
    __tablename__ = "audit_tree"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))  # hex


class LogState(Base):
    __tablename__ = "audit_log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    size: Mapped[int] = mapped_column(BigInteger)
    # Hex hashes of the perfect subtrees covering [0, size), largest first.
    frontier: Mapped[list[str]] = mapped_column(JSON)


class Checkpoint(Base):
    __tablename__ = "audit_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root: Mapped[str] = mapped_column(String(64))  # hex
    note: Mapped[str] = mapped_column(Text)  # the signed note, with every signature so far
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Witness(Base):
    """A regulator's co-signing key (c2sp.org/tlog-cosignature, Ed25519)."""

    __tablename__ = "audit_witnesses"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    vkey: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cosignature(Base):
    __tablename__ = "audit_cosignatures"

    checkpoint_size: Mapped[int] = mapped_column(
        ForeignKey("audit_checkpoints.size"), primary_key=True
    )
    witness_id: Mapped[str] = mapped_column(ForeignKey("audit_witnesses.id"), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[int] = mapped_column(BigInteger)  # the cosignature's own timestamp
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
