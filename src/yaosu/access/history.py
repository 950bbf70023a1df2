"""The history of a contract's answered queries, and the export of a released answer.

A released answer is already safe (noisy, or with small groups removed), so it is kept as it
was shown and exported as it was shown: exporting it again spends nothing and draws no new
noise (which would let anyone average the noise away). Row-level answers keep only their row
count: rows leave only as extracts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.access.models import Extract, QueryRun
from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.spreadsheets import csv_chunks, xlsx_bytes

HISTORY_LIMIT = 200  # the newest runs a page lists
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def list_runs(
    session: Session, actor: Actor, *, contract_id: str, limit: int = HISTORY_LIMIT
) -> list[QueryRun]:
    """The contract's answered queries, newest first, for whoever may see the contract."""
    authorization.get_contract(session, actor, contract_id=contract_id)
    return list(
        session.scalars(
            select(QueryRun)
            .where(QueryRun.contract_id == contract_id)
            .order_by(QueryRun.created_at.desc(), QueryRun.id.desc())
            .limit(max(1, min(limit, HISTORY_LIMIT)))
        )
    )


def get_run(session: Session, actor: Actor, *, run_id: str) -> QueryRun:
    run = session.get(QueryRun, run_id)
    if run is None:
        raise NotFound(kind=_("Query"), id=run_id)
    try:
        authorization.get_contract(session, actor, contract_id=run.contract_id)
    except NotFound as hidden:  # said as the query not found; refused (and audited) as the contract
        refused = NotFound(kind=_("Query"), id=run_id)
        refused.denial = hidden.denial
        raise refused from None
    return run


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str


def table_of(run: QueryRun) -> tuple[list[str], list[list[Any]]]:
    """The released answer with a "± (95%)" column after each noisy one."""
    cells = (run.accuracy or {}).get("cells") or []
    noisy = sorted({i for row in cells for i, v in enumerate(row) if v is not None})
    header: list[str] = []
    for i, name in enumerate(run.columns):
        header.append(name)
        if i in noisy:
            header.append(f"{name} ±95%")
    rows = []
    for r, row in enumerate(run.rows or []):
        out: list[Any] = []
        for i, value in enumerate(row):
            out.append(value)
            if i in noisy:
                out.append(cells[r][i] if r < len(cells) else None)
        rows.append(out)
    return header, rows


def export(session: Session, actor: Actor, *, run_id: str, fmt: str) -> Export:
    """The released answer as CSV (UTF-8 with BOM) or XLSX, text cells formula-safe; the
    export is audited."""
    if fmt not in FORMATS:
        raise InvalidInput(problem=_("format must be csv or xlsx: {fmt}", fmt=fmt))
    run = get_run(session, actor, run_id=run_id)
    if not run.aggregate or run.rows is None:
        raise InvalidInput(
            problem=_(
                "only aggregate answers are kept for export; a row-level answer leaves as an extract"
            )
        )
    header, rows = table_of(run)
    content = (
        b"".join(csv_chunks(header, rows))
        if fmt == "csv"
        else xlsx_bytes(header, rows, sheet="answer")
    )
    record(
        session,
        actor,
        action="query.export",
        object_type="contract",
        object_id=run.contract_id,
        object_org_id=run.consumer_org_id,
        request={"run": run.id, "format": fmt},
        detail={"run": run.id, "rows": len(rows), "query_sha256": run.query_sha256},
    )
    return Export(content, FORMATS[fmt], f"{run.contract_id}-{run.id}.{fmt}")


def deliveries(session: Session, *, contract_id: str, since: datetime | None = None) -> Any:
    """What a contract delivered, from its use records (for the market's metering, never the
    client's word): its answered queries and its extracts, each by id, and a SHA-256 over
    those ids in order, the evidence an order's acceptance keeps."""
    runs = select(QueryRun.id).where(QueryRun.contract_id == contract_id)
    extracts = select(Extract.id, Extract.size_bytes).where(Extract.contract_id == contract_id)
    if since is not None:
        runs = runs.where(QueryRun.created_at >= since)
        extracts = extracts.where(Extract.created_at >= since)
    run_ids = list(session.scalars(runs.order_by(QueryRun.id)))
    extract_rows = list(session.execute(extracts.order_by(Extract.id)))
    digest = hashlib.sha256(
        json.dumps({"runs": run_ids, "extracts": [e.id for e in extract_rows]}).encode()
    ).hexdigest()
    return {
        "queries": len(run_ids),
        "extracts": len(extract_rows),
        "extract_bytes": sum(e.size_bytes for e in extract_rows),
        "evidence_sha256": digest,
    }
