"""Catalog: a dataset's versions: ingest, the profile as each actor may see it, preview and
the audited read of rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import (
    PROFILE_NO_VALUES,
    PROFILE_WITHHOLD_PERSONAL,
    Resource,
    decide,
    enforce,
)
from yaosu.catalog.ingest import convert
from yaosu.catalog.ingest.common import clean_filename
from yaosu.catalog.ingest.errors import IdenticalToLatest
from yaosu.catalog.models import Dataset, DatasetVersion
from yaosu.catalog.schemas import VersionPublic
from yaosu.catalog.service import get_dataset, resource
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.storage import ObjectStore
from yaosu.lineage import service as lineage
from yaosu.privacy.exposure import exposure


def run_ingest(
    ctx: Context,
    actor: Actor,
    *,
    dataset_id: str,
    source: Path,
    filename: str,
    sheet: str | None = None,
    progress: Callable[[int], None] | None = None,
    attach: Callable[[Session, DatasetVersion], None] | None = None,
) -> DatasetVersion:
    """Checks the right, converts outside any transaction (ingest can take minutes and
    must not hold the write lock), then stores the object and records the version in
    one transaction. A crash at any point leaves no visible version. ``attach`` adds what
    belongs with the new version (a derivation, its screen) to that same transaction."""
    db, store = ctx.db, ctx.store
    filename = clean_filename(filename)  # no NUL, folders or control characters, kept short
    with db.transaction() as session:
        enforce(actor, "dataset.edit", resource(get_dataset(session, actor, dataset_id=dataset_id)))
    # Locked while this process lives: a start-up sweep elsewhere leaves it alone, and removes
    # it at once if this process is killed.
    with store.locked_temp(".parquet") as out:
        converted = convert(
            source,
            filename=filename,
            store=store,
            settings=ctx.settings,
            sheet=sheet,
            progress=progress,
            out=out,
        )
        try:
            store.put(converted.parquet, converted.sha256)
            with db.transaction() as session:
                ds = get_dataset(session, actor, dataset_id=dataset_id)
                enforce(actor, "dataset.edit", resource(ds))  # the right may have changed meanwhile
                session.execute(locked(select(Dataset.id).where(Dataset.id == ds.id)))
                if attach is None:  # an upload; a derivation is new data by its recipe
                    _refuse_identical(session, ds, converted.sha256)
                ds.latest_version += 1
                ds.updated_at = utcnow()
                version = DatasetVersion(
                    id=new_id("ver"),
                    dataset_id=ds.id,
                    number=ds.latest_version,
                    sha256=converted.sha256,
                    size_bytes=converted.size_bytes,
                    row_count=converted.row_count,
                    source_filename=filename,
                    source_sha256=converted.source_sha256,
                    source_bytes=converted.source_bytes,
                    source_format=converted.source_format,
                    source_encoding=converted.source_encoding,
                    source_delimiter=converted.source_delimiter,
                    columns=converted.columns,
                    ingest_seconds=converted.seconds,
                    created_by=actor.id,
                )
                session.add(version)
                session.flush()
                record(
                    session,
                    actor,
                    action="dataset.version.create",
                    object_type="dataset",
                    object_id=ds.id,
                    object_org_id=ds.owner_org_id,
                    request={"dataset_id": ds.id, "source_sha256": converted.source_sha256},
                    detail={
                        "version": version.number,
                        "sha256": converted.sha256,
                        "rows": converted.row_count,
                        "source_sha256": converted.source_sha256,
                    },
                )
                if attach is None:
                    _collected(session, actor, ds, version)
                else:
                    attach(session, version)
            return version
        finally:
            converted.parquet.unlink(missing_ok=True)


def version_node(
    session: Session, *, dataset_id: str, number: int, part: str = "holder", rows: int | None = None
) -> lineage.Node:
    """A version as lineage names it: the dataset's title, its holder (the organisation that
    registered it) and the version's content hash. ``rows``: of it used, for an input."""
    ds = session.get(Dataset, dataset_id)
    version = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset_id, DatasetVersion.number == number
        )
    )
    if ds is None or version is None:
        raise NotFound(kind=_("Dataset version"), id=f"{dataset_id} v{number}")
    return lineage.Node(
        name=lineage.version_name(dataset_id, number),
        kind="version",
        title=f"{ds.title} v{number}",
        org_id=ds.owner_org_id,
        part=part,
        rows=rows,
        sha256=version.sha256,
        link=f"/datasets/{dataset_id}",
    )


def lineage_of(session: Session, actor: Actor, *, dataset_id: str) -> lineage.Graph:
    """A dataset's lineage: how each of its versions was made (for whoever may see the
    dataset) and what was made from them (the runs the reader may see: the holder sees who
    used its data, a user only its own use)."""
    ds = get_dataset(session, actor, dataset_id=dataset_id)
    names = [
        lineage.version_name(ds.id, n)
        for n in session.scalars(
            select(DatasetVersion.number).where(DatasetVersion.dataset_id == ds.id)
        )
    ]
    if not names:
        return lineage.Graph()
    made = lineage.graph(session, start=names, up=True)
    used = lineage.graph(session, start=names, up=False, down=True, where=lineage.readable(actor))
    return lineage.merge(made, used)


def _collected(session: Session, actor: Actor, ds: Dataset, version: DatasetVersion) -> None:
    """The lineage of an upload: the file as received became this version of the holder's."""
    node = version_node(session, dataset_id=ds.id, number=version.number)
    upload = lineage.Node(
        name=f"uploads/{version.source_sha256}",
        kind="upload",
        title=version.source_filename,
        org_id=ds.owner_org_id,
        part="holder",
        sha256=version.source_sha256,
    )
    # A file the platform itself made (an extract a user received) uploaded again: the
    # version is derived from it, and the lineage says so.
    made = lineage.made_with_content(session, sha256=version.source_sha256)
    came_from = [
        lineage.Node(name=name, kind=name.split("/", 1)[0].rstrip("s"), title=name) for name in made
    ]
    lineage.emit(
        session,
        actor,
        job="catalog.ingest",
        inputs=[upload, *came_from],
        outputs=[dataclasses.replace(node, rows=version.row_count)],
        audit={"action": "dataset.version.create", "object_type": "dataset", "object_id": ds.id},
        detail={"format": version.source_format, "encoding": version.source_encoding},
    )


def _refuse_identical(session: Session, ds: Dataset, sha256: str) -> None:
    """The same data as the newest version (whatever the file's name or format) makes no new
    version: the uploader is told which version it already is."""
    latest = session.scalar(
        select(DatasetVersion.sha256).where(
            DatasetVersion.dataset_id == ds.id, DatasetVersion.number == ds.latest_version
        )
    )
    if latest == sha256:
        raise IdenticalToLatest(version=ds.latest_version)


def list_versions(session: Session, actor: Actor, *, dataset_id: str) -> list[DatasetVersion]:
    get_dataset(session, actor, dataset_id=dataset_id)
    stmt = (
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset_id)
        .order_by(DatasetVersion.number.desc())
    )
    return list(session.scalars(stmt))


def get_version(
    session: Session, actor: Actor, *, dataset_id: str, number: int | None
) -> DatasetVersion:
    ds = get_dataset(session, actor, dataset_id=dataset_id)
    number = number or ds.latest_version
    version = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == ds.id, DatasetVersion.number == number
        )
    )
    if version is None:
        raise NotFound(kind=_("Dataset version"), id=f"{dataset_id}@{number}")
    return version


XLSX_ROWS = 200_000  # an Excel download is built in memory: larger versions go as CSV

# What a withheld column still shows: its shape, never a value.
_SHAPE = ("name", "type", "kind", "nulls", "null_ratio")


def shown_columns(
    session: Session, actor: Actor, *, ds: Dataset, version: DatasetVersion
) -> list[dict[str, Any]]:
    """The version's column profile as ``actor`` may see it: the one place every exit (API,
    console, derivation reports) reads a profile through. The provider sees it whole; anyone
    else sees values only for columns the version's confirmed screen found to be neither
    personal information nor an identifier, and none before a screen is confirmed. A withheld
    column keeps its name, type, null ratio and (for text) length."""
    names = [c["name"] for c in version.columns]
    seen = exposure(session, dataset_id=ds.id, version=version.number, columns=names)
    base = resource(ds, version.number)
    decision = decide(
        actor,
        "dataset.profile",
        Resource(
            base.type,
            base.id,
            base.owner_org_id,
            {**base.attrs, "screen_confirmed": seen.confirmed},
        ),
    )
    withheld: frozenset[str] | None
    if not decision.allowed or PROFILE_NO_VALUES in decision.obligations:
        withheld = None
    elif PROFILE_WITHHOLD_PERSONAL in decision.obligations:
        withheld = seen.withheld
    else:
        withheld = frozenset()
    out = []
    for column in version.columns:
        if withheld is not None and column["name"] not in withheld:
            out.append(dict(column))
            continue
        shape = {k: column[k] for k in _SHAPE if k in column}
        if column.get("kind") == "string" and column.get("length"):
            shape["length"] = dict(column["length"])
        out.append(shape | {"distinct_estimate": None, "top": [], "withheld": True})
    return out


def public_version(
    session: Session, actor: Actor, *, ds: Dataset, version: DatasetVersion
) -> VersionPublic:
    fields = {f: getattr(version, f) for f in VersionPublic.model_fields if f != "columns"}
    return VersionPublic.model_validate(
        {**fields, "columns": shown_columns(session, actor, ds=ds, version=version)}
    )


def open_data(
    session: Session,
    actor: Actor,
    *,
    store: ObjectStore,
    dataset_id: str,
    number: int | None,
    purpose: str,
) -> tuple[DatasetVersion, Path]:
    """The stored Parquet of a version, for whoever may read rows; the access is audited."""
    ds = get_dataset(session, actor, dataset_id=dataset_id)
    version = get_version(session, actor, dataset_id=dataset_id, number=number)
    decision = enforce(actor, "dataset.read", resource(ds, version.number))
    record(
        session,
        actor,
        action=f"dataset.{purpose}",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        reason=decision.reason,
        request={"dataset_id": ds.id, "version": version.number},
        detail={"version": version.number, "sha256": version.sha256},
    )
    return version, store.path(version.sha256)


def preview(
    session: Session,
    actor: Actor,
    *,
    store: ObjectStore,
    dataset_id: str,
    number: int | None,
    limit: int = 20,
) -> tuple[list[str], list[list[Any]], int]:
    version, path = open_data(
        session, actor, store=store, dataset_id=dataset_id, number=number, purpose="preview"
    )
    pf = pq.ParquetFile(path)
    batch = next(pf.iter_batches(batch_size=max(1, min(limit, 200))), None)
    names = pf.schema_arrow.names
    rows = [] if batch is None else [list(r.values()) for r in batch.to_pylist()]
    return names, [[jsonable(v) for v in r] for r in rows], version.row_count


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
