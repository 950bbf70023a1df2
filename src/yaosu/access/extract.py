"""De-identified extracts: the rows and fields a contract grants, de-identified with the
privacy domain's recipes, watermarked for their recipient, delivered as Parquet or CSV with
a signed manifest of hashes and terms.

The recipe comes from the dataset's confirmed screen (the suggested one), limited to the
granted fields, with the contract's masks on top. Pseudonyms are keyed per *contract*
(HMAC of the dataset's key and the contract id), so the same person has different tokens in
different recipients' copies: a leaked file is traced to its contract by recomputing each
contract's tokens (``trace``). CSV is UTF-8 with a BOM (Excel opens it as Chinese), and a
text cell that starts with = + - @ or a control character is prefixed with ' so that no
spreadsheet runs it as a formula.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.access import governance, service
from yaosu.access.models import Extract
from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.operations import Operation
from yaosu.authorization.policy import Resource, enforce
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.spreadsheets import write_csv
from yaosu.lineage import service as lineage
from yaosu.privacy import deidentify as deid
from yaosu.privacy.service import confirmed_screen, pseudonym_key
from yaosu.rights import certify
from yaosu.rights.service import certificate_signer

MAX_ROWS = 5_000_000


FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV"}  # as the formats call themselves


def contract_key(dataset_key: bytes, contract_id: str) -> bytes:
    """The pseudonym key of one recipient: tokens differ between contracts."""
    return hmac.new(dataset_key, f"contract:{contract_id}".encode(), hashlib.sha256).digest()


def recipe_for(
    findings: dict[str, Any], fields: list[str], masks: dict[str, str]
) -> dict[str, Any]:
    suggested = deid.suggest(findings)
    columns = {c: step for c, step in suggested.get("columns", {}).items() if c in fields}
    for column, method in masks.items():
        if column in fields:
            columns[column] = (
                {"op": "pseudonymise"} if method == "hash" else {"op": "mask", "keep_first": 1}
            )
    quasi = [
        q
        for q in suggested.get("k_anonymity", {}).get("quasi_identifiers", [])
        if q in fields and columns.get(q, {}).get("op") != "drop"
    ]
    doc: dict[str, Any] = {"columns": columns}
    if quasi and suggested.get("k_anonymity", {}).get("k"):
        doc["k_anonymity"] = {"quasi_identifiers": quasi, "k": suggested["k_anonymity"]["k"]}
    return doc


def _authorised_rows(
    ctx: Context,
    path: Path,
    sha256: str,
    fields: list[str],
    row_filter: str | None,
    max_rows: int = MAX_ROWS,
) -> pa.Table:
    """The granted fields of the rows the contract's filter keeps, read by the same
    locked-down engine and through the same policy view as a governed query (the filter
    never runs in an engine of its own). Masks are left to the de-identification recipe."""
    from sqlglot import exp

    source = f"__src_{sha256[:24]}"
    grant = governance.Grant(
        dataset_id=source,
        source=source,
        columns={f: "" for f in fields},
        all_columns=frozenset(fields),
        row_filter=row_filter,
    )
    view = governance.policy_view(grant, bound_units=False).subquery(
        exp.to_identifier("__rows", quoted=True)
    )
    query = exp.select(*[exp.column(f, quoted=True) for f in fields]).from_(view)
    query = query.limit(max_rows + 1)  # one more than allowed: enough to refuse, no more
    return service.engine_for(ctx).run(query.sql("duckdb"), {source: path})


@dataclass(frozen=True)
class _Terms:
    """What a contract grants of one dataset, as the extract and the compute job read it."""

    findings: dict[str, Any]
    fields: list[str]
    masks: dict[str, Any]
    row_filter: str | None
    path: Path
    sha256: str
    version: int
    dataset_id: str


def _terms(
    ctx: Context,
    session: Session,
    actor: Actor,
    *,
    contract_id: str,
    dataset_id: str,
    operation: str,
) -> _Terms:
    """The contract's terms for the dataset, decided before doing any work (a dry run: a
    contract that does not permit the use costs the server nothing; the caller debits it with
    the record of what it did)."""
    contract = authorization.get_contract(session, actor, contract_id=contract_id)
    if dataset_id not in contract.datasets:
        raise InvalidInput(
            problem=_(
                "contract {contract_id} does not cover the dataset {dataset_id}",
                contract_id=contract_id,
                dataset_id=dataset_id,
            )
        )
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
    screen = confirmed_screen(session, dataset_id=ds.id, version=version.number)
    fields = list(contract.datasets[dataset_id])
    authorization.use(
        session,
        actor,
        contract_id=contract_id,
        operation=operation,
        dataset_id=dataset_id,
        fields=fields,
        dry_run=True,
    )
    return _Terms(
        findings=screen.findings if screen is not None else {"columns": []},
        fields=fields,
        masks=dict((contract.masks or {}).get(dataset_id, {})),
        row_filter=(contract.row_filters or {}).get(dataset_id),
        path=ctx.store.path(version.sha256),
        sha256=version.sha256,
        version=version.number,
        dataset_id=ds.id,
    )


@dataclass(frozen=True)
class Granted:
    """What a contract grants of one dataset, as a table: the granted fields of the rows its
    filter keeps, de-identified by the extract's recipe (keyed to the contract)."""

    table: pa.Table
    dataset_id: str
    version: int
    source_sha256: str
    fields: list[str]
    recipe: dict[str, Any]
    k: int | None
    rows_read: int


def _deidentified(
    ctx: Context, terms: _Terms, *, contract_id: str, max_rows: int = MAX_ROWS
) -> Granted:
    recipe_doc = recipe_for(terms.findings, terms.fields, terms.masks)
    table = _authorised_rows(
        ctx, terms.path, terms.sha256, terms.fields, terms.row_filter, max_rows
    )
    if table.num_rows > max_rows:
        raise InvalidInput(problem=_("more than {MAX_ROWS} rows", MAX_ROWS=format(max_rows, ",")))
    recipe = deid.Recipe.parse(recipe_doc, table.column_names)
    key = contract_key(pseudonym_key(ctx.settings, terms.dataset_id), contract_id)
    result = deid.apply(table, recipe, key=key)
    return Granted(
        table=result.table,
        dataset_id=terms.dataset_id,
        version=terms.version,
        source_sha256=terms.sha256,
        fields=terms.fields,
        recipe=recipe_doc,
        k=result.k,
        rows_read=table.num_rows,
    )


def run_granted(
    ctx: Context,
    actor: Actor,
    *,
    contract_id: str,
    dataset_id: str,
    operation: str,
    max_rows: int = MAX_ROWS,
) -> Granted:
    """The policy view of one dataset under a contract, for work that runs where the data is
    (a compute-to-data job's inputs): decided (``operation``, a dry run: the caller debits
    the use with the record of what it did), never written anywhere but the caller's hands;
    at most ``max_rows`` rows (more is refused, having read one more)."""
    with ctx.db.transaction() as session:
        terms = _terms(
            ctx, session, actor, contract_id=contract_id, dataset_id=dataset_id, operation=operation
        )
    return _deidentified(ctx, terms, contract_id=contract_id, max_rows=max_rows)


def run_extract(
    ctx: Context, actor: Actor, *, contract_id: str, dataset_id: str, fmt: str = "parquet"
) -> Extract:
    if fmt not in ("parquet", "csv"):
        raise InvalidInput(problem=_("format must be parquet or csv: {fmt}", fmt=fmt))
    with ctx.db.transaction() as session:
        terms = _terms(
            ctx,
            session,
            actor,
            contract_id=contract_id,
            dataset_id=dataset_id,
            operation=Operation.extract,
        )
        source_node = versions.version_node(session, dataset_id=dataset_id, number=terms.version)
        run_id = lineage.new_run()
        lineage.emit(
            session,
            actor,
            job="access.extract",
            state="START",
            run_id=run_id,
            inputs=[source_node],
            contract=contract_id,
        )
    with lineage.failing(ctx.db, actor, job="access.extract", run_id=run_id, inputs=[source_node]):
        return _extract(
            ctx,
            actor,
            contract_id=contract_id,
            fmt=fmt,
            terms=terms,
            run_id=run_id,
            source_node=source_node,
        )


def _extract(
    ctx: Context,
    actor: Actor,
    *,
    contract_id: str,
    fmt: str,
    terms: _Terms,
    run_id: str,
    source_node: lineage.Node,
) -> Extract:
    dataset_id, number, source_sha = terms.dataset_id, terms.version, terms.sha256
    granted = _deidentified(ctx, terms, contract_id=contract_id)
    recipe_doc, fields = granted.recipe, terms.fields
    out = ctx.store.temp_path(f".{fmt}")
    try:
        if fmt == "parquet":
            pq.write_table(granted.table, out, compression="zstd")
        else:
            write_csv(granted.table, out)
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        size = out.stat().st_size
        ctx.store.put(out, digest)
    finally:
        out.unlink(missing_ok=True)
    extract_id = new_id("ext")
    with ctx.db.transaction() as session:
        # One use of the contract, decided and debited with the record of the extract.
        _decision, contract = authorization.use(
            session,
            actor,
            contract_id=contract_id,
            operation=Operation.extract,
            dataset_id=dataset_id,
            fields=fields,
        )
        manifest = {
            "type": "yaosu-extract-manifest/v1",
            "extract": extract_id,
            "contract": contract_id,
            "recipient": contract.consumer_org_id,
            "dataset": dataset_id,
            "version": number,
            "source_sha256": source_sha,
            "file": {
                "format": fmt,
                "sha256": digest,
                "bytes": size,
                "rows": granted.table.num_rows,
            },
            "columns": granted.table.column_names,
            "recipe": recipe_doc,
            "k": granted.k,
            "terms": {
                "purpose": contract.purpose,
                "ends_at": contract.ends_at.isoformat(),
                "prohibitions": list(contract.prohibitions),
                "duties": [d["action"] for d in contract.duties],
            },
            "watermark": "pseudonyms keyed to this contract",
        }

        signer = certificate_signer(ctx.settings)
        signed = {
            "manifest": manifest,
            "signature": certify.sign(signer.private, manifest),
            "key": signer.verifier_key(),
        }
        extract = Extract(
            id=extract_id,
            contract_id=contract_id,
            consumer_org_id=contract.consumer_org_id,
            dataset_id=dataset_id,
            version=number,
            source_sha256=source_sha,
            format=fmt,
            sha256=digest,
            size_bytes=size,
            rows=granted.table.num_rows,
            recipe=recipe_doc,
            manifest=signed,
            created_by=actor.id,
        )
        session.add(extract)
        session.flush()
        lineage.emit(
            session,
            actor,
            job="access.extract",
            run_id=run_id,
            inputs=[replace(source_node, rows=granted.rows_read)],
            outputs=[
                lineage.Node(
                    name=f"extracts/{extract_id}",
                    kind="extract",
                    title=f"{source_node.title} → {FORMAT_NAMES[fmt]}",
                    org_id=contract.consumer_org_id,
                    part="consumer",
                    rows=granted.table.num_rows,
                    sha256=digest,
                    link=f"/contracts/{contract_id}",
                )
            ],
            audit={"action": "extract.create", "object_type": "contract", "object_id": contract_id},
            contract=contract_id,
            detail={"k": granted.k, "format": fmt},
        )
        record(
            session,
            actor,
            action="extract.create",
            object_type="contract",
            object_id=contract_id,
            object_org_id=contract.consumer_org_id,
            request={"dataset_id": dataset_id, "format": fmt},
            detail={
                "extract": extract_id,
                "sha256": digest,
                "rows": granted.table.num_rows,
                "k": granted.k,
            },
        )
    return extract


def get_extract(session: Session, actor: Actor, *, extract_id: str) -> Extract:
    extract = session.get(Extract, extract_id)
    if extract is None:
        raise NotFound(kind=_("Extract"), id=extract_id)
    authorization.get_contract(session, actor, contract_id=extract.contract_id)  # or oversight
    return extract


def run_download(ctx: Context, actor: Actor, *, extract_id: str) -> Extract:
    """Only the recipient downloads an extract; every download is audited."""
    with ctx.db.transaction() as session:
        extract = session.get(Extract, extract_id)
        if extract is None:
            raise NotFound(kind=_("Extract"), id=extract_id)
        authorization.get_contract(session, actor, contract_id=extract.contract_id)
        enforce(actor, "extract.download", Resource("extract", extract.id, extract.consumer_org_id))
        record(
            session,
            actor,
            action="extract.download",
            object_type="contract",
            object_id=extract.contract_id,
            object_org_id=extract.consumer_org_id,
            detail={"extract": extract.id, "sha256": extract.sha256},
        )
        session.expunge(extract)
        return extract


def run_trace(ctx: Context, *, path: Path, dataset_id: str) -> list[dict[str, Any]]:
    """Which contract's copy is this file? For each extract of the dataset, the share of the
    file's pseudonyms that the contract's key reproduces from the source; the leak is the one
    near 1."""
    leaked = pq.read_table(path) if path.suffix == ".parquet" else _read_csv(path)
    with ctx.db.transaction() as session:
        extracts = list(session.scalars(select(Extract).where(Extract.dataset_id == dataset_id)))
        for e in extracts:
            session.expunge(e)
    base = pseudonym_key(ctx.settings, dataset_id)
    scores = []
    for e in extracts:
        columns = [
            c
            for c, step in e.recipe.get("columns", {}).items()
            if step.get("op") == "pseudonymise" and c in leaked.column_names
        ]
        if not columns:
            continue
        source = pq.read_table(ctx.store.path(e.source_sha256), columns=columns)
        key = contract_key(base, e.contract_id)
        hits = total = 0
        for column in columns:
            expected = {
                hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:20]
                for v in source.column(column).drop_null().to_pylist()
            }
            seen = [v for v in leaked.column(column).to_pylist() if v is not None]
            total += len(seen)
            hits += sum(1 for v in seen if v in expected)
        scores.append(
            {
                "extract": e.id,
                "contract": e.contract_id,
                "recipient": e.consumer_org_id,
                "match": round(hits / total, 4) if total else 0.0,
            }
        )
    return sorted(scores, key=lambda s: -float(s["match"]))


def _read_csv(path: Path) -> pa.Table:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    return pa.table(
        {name: [r[i] if r[i] != "" else None for r in body] for i, name in enumerate(header)}
    )
