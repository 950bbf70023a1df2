"""Lineage's tables: the OpenLineage run events as emitted, and the datasets each one names
(so a graph is walked by index, not by reading every event's JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.kernel.db import Base, UTCDateTime, utcnow


class LineageEvent(Base):
    """One OpenLineage ``RunEvent`` (``event``, exactly as emitted and as exported), with
    what is asked of it often: its run, state, job, the organisation that ran it. ``sent_at``
    is set once an OpenLineage endpoint took it."""

    __tablename__ = "lineage_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(10))  # START | COMPLETE | FAIL | ABORT
    job: Mapped[str] = mapped_column(String(60), index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_org_id: Mapped[str | None] = mapped_column(String(40), index=True)
    contract_id: Mapped[str | None] = mapped_column(String(40), index=True)  # it ran under
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class LineageDataset(Base):
    """A dataset an event names, as an input (``side`` in) or an output (out): its OpenLineage
    name (``datasets/<id>/v<n>``, ``products/<id>`` …), the organisation behind it and, for an
    input, the rows of it actually used (``rows``: the ``inputStatistics`` facet)."""

    __tablename__ = "lineage_datasets"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(ForeignKey("lineage_events.id"), index=True)
    side: Mapped[str] = mapped_column(String(3))  # in | out
    name: Mapped[str] = mapped_column(String(120), index=True)
    org_id: Mapped[str | None] = mapped_column(String(40), index=True)
    rows: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)  # its content, if a file
