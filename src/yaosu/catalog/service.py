"""Catalog: datasets, versions, ingest, search, preview and download."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization.policy import (
    PROFILE_NO_VALUES,
    PROFILE_WITHHOLD_PERSONAL,
    Resource,
    Rows,
    decide,
    enforce,
    visible,
)
from yaosu.catalog import search
from yaosu.catalog.ingest import convert
from yaosu.catalog.ingest.common import clean_filename
from yaosu.catalog.labels import OPENNESS
from yaosu.catalog.models import Dataset, DatasetVersion, SearchTerm
from yaosu.catalog.queries import count_datasets, dataset_titles, find_dataset  # noqa: F401
from yaosu.catalog.schemas import DatasetCreate, DatasetPublic, DatasetUpdate, VersionPublic
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import Database, locked, utcnow
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import _, label
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.storage import ObjectStore
from yaosu.privacy.exposure import exposure

# ``resource`` as SQL, for listings: the attributes the view rule reads.
ROWS = Rows("dataset", Dataset.owner_org_id, {"openness": Dataset.openness})


def resource(ds: Dataset, version: int | None = None) -> Resource:
    """The dataset as the decision function sees it; rows are judged per version: only the
    version a reviewer confirmed clean counts as screened (an older raw one never does)."""
    clean = ds.clean_version is not None and ds.clean_version == (version or ds.latest_version)
    attrs = {
        "openness": ds.openness,
        "screened_clean": clean,
        "has_versions": ds.latest_version > 0,
    }
    return Resource("dataset", ds.id, ds.owner_org_id, attrs)


def mark_screened(session: Session, dataset_id: str, version: int, *, clean: bool) -> None:
    """Called by the privacy domain when a reviewer confirms a screen of ``version``."""
    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise NotFound(kind=_("Dataset"), id=dataset_id)
    if clean:
        ds.clean_version = max(version, ds.clean_version or 0)
    elif ds.clean_version == version:
        ds.clean_version = None


def public(session: Session, ds: Dataset) -> DatasetPublic:
    return DatasetPublic.model_validate(
        {
            **{c: getattr(ds, c) for c in DatasetPublic.model_fields if hasattr(ds, c)},
            "publisher": accounts.org_names(session, [ds.owner_org_id]).get(ds.owner_org_id, ""),
            "openness_label": label(OPENNESS, ds.openness).render(
                "zh-CN"
            ),  # the API's Chinese label
        }
    )


# --- datasets ------------------------------------------------------------------------------


def create_dataset(session: Session, actor: Actor, data: DatasetCreate) -> Dataset:
    org_id = actor.org_id or ""
    enforce(actor, "dataset.create", Resource("dataset", "new", org_id))
    ds = Dataset(
        id=new_id("ds"),
        owner_org_id=org_id,
        created_by=actor.id,
        **data.model_dump(),
    )
    session.add(ds)
    session.flush()
    _reindex(session, ds)
    record(
        session,
        actor,
        "dataset.create",
        "dataset",
        ds.id,
        object_org_id=ds.owner_org_id,
        request=data.model_dump(mode="json"),
    )
    return ds


def get_dataset(session: Session, actor: Actor, dataset_id: str) -> Dataset:
    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise NotFound(kind=_("Dataset"), id=dataset_id)
    enforce(actor, "dataset.view", resource(ds))
    return ds


def update_dataset(session: Session, actor: Actor, dataset_id: str, data: DatasetUpdate) -> Dataset:
    ds = get_dataset(session, actor, dataset_id)
    changes = data.model_dump(exclude_unset=True, mode="json")
    before, after = ds.openness, changes.get("openness") or ds.openness
    opening = after == "open" and before != "open"
    widening = _OPENNESS_RANK.get(after, 0) > _OPENNESS_RANK.get(before, 0)
    enforce(actor, "dataset.edit", resource(ds), {"opening": opening, "widening": widening})
    for key, value in changes.items():
        if value is not None:
            setattr(ds, key, value)
    ds.updated_at = utcnow()
    _reindex(session, ds)
    detail: dict[str, Any] = {"fields": sorted(changes)}
    if widening:
        # Opening is its own audited act; opening important or core data is reported to the
        # data bureau (数据局), whose console home lists it.
        grade = _confirmed_grade(session, ds)
        detail |= {"openness_from": before, "openness_to": after, "grade": grade}
        if grade in ("important", "core"):
            detail["notify"] = [OPENING_NOTIFIES]
    record(
        session,
        actor,
        "dataset.open" if widening else "dataset.update",
        "dataset",
        ds.id,
        object_org_id=ds.owner_org_id,
        request=changes,
        detail=detail,
    )
    return ds


_OPENNESS_RANK = {"closed": 0, "conditional": 1, "open": 2}
OPENING_NOTIFIES = "数据局"  # the department told when important data is opened


def _confirmed_grade(session: Session, ds: Dataset) -> str | None:
    from yaosu.privacy.service import confirmed_screen

    screen = confirmed_screen(session, ds.id, ds.latest_version) if ds.latest_version else None
    return screen.grade if screen is not None else None


def _reindex(session: Session, ds: Dataset) -> None:
    publisher = accounts.org_names(session, [ds.owner_org_id]).get(ds.owner_org_id, "")
    weights = search.index_terms(
        [
            ("title", ds.title),
            ("keywords", " ".join(ds.keywords)),
            ("theme", ds.theme),
            ("publisher", publisher),
            ("description", ds.description),
        ]
    )
    session.query(SearchTerm).filter(SearchTerm.dataset_id == ds.id).delete()
    session.add_all(SearchTerm(dataset_id=ds.id, term=t, weight=w) for t, w in weights.items())


@dataclass
class Listing:
    items: list[Dataset]
    total: int
    facets: dict[str, list[tuple[str, int]]]


def list_datasets(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    theme: str | None = None,
    openness: str | None = None,
    provider: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Listing:
    where: list[Any] = [visible(actor, "dataset.view", ROWS)]
    rank = None
    if q and q.strip():
        wanted = search.query_terms(q)
        if not wanted:
            return Listing([], 0, {})
        per_term = []
        for term in wanted:
            match = SearchTerm.term == term
            if (
                term.isascii() and len(term) >= 3
            ):  # prefix match for Latin words: "agri" -> agriculture
                escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                match = or_(match, SearchTerm.term.like(escaped + "%", escape="\\"))
            best = (
                select(func.max(SearchTerm.weight))
                .where(SearchTerm.dataset_id == Dataset.id, match)
                .scalar_subquery()
            )
            per_term.append(best)
        where.extend(t.is_not(None) for t in per_term)
        rank = sum(per_term[1:], per_term[0])
    columns = {
        "theme": Dataset.theme,
        "openness": Dataset.openness,
        "provider": Dataset.owner_org_id,
    }
    chosen = {"theme": theme, "openness": openness, "provider": provider}
    narrowing = {name: columns[name] == value for name, value in chosen.items() if value}
    filters = where + list(narrowing.values())

    total = session.scalar(select(func.count()).select_from(Dataset).where(and_(*filters))) or 0
    order = [Dataset.updated_at.desc(), Dataset.id]
    if rank is not None:
        order.insert(0, rank.desc())
    stmt = select(Dataset).where(and_(*filters)).order_by(*order).limit(limit).offset(offset)
    items = list(session.scalars(stmt))

    # Each facet counts within the query and the *other* facets' filters, so a chosen
    # value still shows its siblings, as catalog users expect.
    facets: dict[str, list[tuple[str, int]]] = {}
    for name, column in columns.items():
        scoped = where + [clause for other, clause in narrowing.items() if other != name]
        rows = session.execute(
            select(column, func.count())
            .where(and_(*scoped))
            .group_by(column)
            .order_by(func.count().desc(), column)
        ).all()
        facets[name] = [(str(v), int(c)) for v, c in rows]
    return Listing(items, int(total), facets)


# --- versions ------------------------------------------------------------------------------


def ingest_version(
    db: Database,
    store: ObjectStore,
    settings: Settings,
    actor: Actor,
    dataset_id: str,
    source: Path,
    *,
    filename: str,
    sheet: str | None = None,
    progress: Callable[[int], None] | None = None,
    attach: Callable[[Session, DatasetVersion], None] | None = None,
) -> DatasetVersion:
    """Checks the right, converts outside any transaction (ingest can take minutes and
    must not hold the write lock), then stores the object and records the version in
    one transaction. A crash at any point leaves no visible version. ``attach`` adds what
    belongs with the new version (a derivation, its screen) to that same transaction."""
    filename = clean_filename(filename)  # no NUL, folders or control characters, kept short
    with db.transaction() as session:
        enforce(actor, "dataset.edit", resource(get_dataset(session, actor, dataset_id)))
    # Locked while this process lives: a start-up sweep elsewhere leaves it alone, and removes
    # it at once if this process is killed.
    with store.locked_temp(".parquet") as out:
        converted = convert(
            source,
            filename=filename,
            store=store,
            settings=settings,
            sheet=sheet,
            progress=progress,
            out=out,
        )
        try:
            store.put(converted.parquet, converted.sha256)
            with db.transaction() as session:
                ds = get_dataset(session, actor, dataset_id)
                enforce(actor, "dataset.edit", resource(ds))  # the right may have changed meanwhile
                session.execute(locked(select(Dataset.id).where(Dataset.id == ds.id)))
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
                    "dataset.version.create",
                    "dataset",
                    ds.id,
                    object_org_id=ds.owner_org_id,
                    request={"dataset_id": ds.id, "source_sha256": converted.source_sha256},
                    detail={
                        "version": version.number,
                        "sha256": converted.sha256,
                        "rows": converted.row_count,
                        "source_sha256": converted.source_sha256,
                    },
                )
                if attach is not None:
                    attach(session, version)
            return version
        finally:
            converted.parquet.unlink(missing_ok=True)


def list_versions(session: Session, actor: Actor, dataset_id: str) -> list[DatasetVersion]:
    get_dataset(session, actor, dataset_id)
    stmt = (
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset_id)
        .order_by(DatasetVersion.number.desc())
    )
    return list(session.scalars(stmt))


def get_version(
    session: Session, actor: Actor, dataset_id: str, number: int | None
) -> DatasetVersion:
    ds = get_dataset(session, actor, dataset_id)
    number = number or ds.latest_version
    version = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == ds.id, DatasetVersion.number == number
        )
    )
    if version is None:
        raise NotFound(kind=_("Dataset version"), id=f"{dataset_id}@{number}")
    return version


# What a withheld column still shows: its shape, never a value.
_SHAPE = ("name", "type", "kind", "nulls", "null_ratio")


def shown_columns(
    session: Session, actor: Actor, ds: Dataset, version: DatasetVersion
) -> list[dict[str, Any]]:
    """The version's column profile as ``actor`` may see it: the one place every exit (API,
    console, derivation reports) reads a profile through. The provider sees it whole; anyone
    else sees values only for columns the version's confirmed screen found to be neither
    personal information nor an identifier, and none before a screen is confirmed. A withheld
    column keeps its name, type, null ratio and (for text) length."""
    names = [c["name"] for c in version.columns]
    seen = exposure(session, ds.id, version.number, names)
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
    session: Session, actor: Actor, ds: Dataset, version: DatasetVersion
) -> VersionPublic:
    fields = {f: getattr(version, f) for f in VersionPublic.model_fields if f != "columns"}
    return VersionPublic.model_validate(
        {**fields, "columns": shown_columns(session, actor, ds, version)}
    )


def open_data(
    session: Session,
    store: ObjectStore,
    actor: Actor,
    dataset_id: str,
    number: int | None,
    *,
    purpose: str,
) -> tuple[DatasetVersion, Path]:
    """The stored Parquet of a version, for whoever may read rows; the access is audited."""
    ds = get_dataset(session, actor, dataset_id)
    version = get_version(session, actor, dataset_id, number)
    decision = enforce(actor, "dataset.read", resource(ds, version.number))
    record(
        session,
        actor,
        f"dataset.{purpose}",
        "dataset",
        ds.id,
        object_org_id=ds.owner_org_id,
        reason=decision.reason,
        request={"dataset_id": ds.id, "version": version.number},
        detail={"version": version.number, "sha256": version.sha256},
    )
    return version, store.path(version.sha256)


def preview(
    session: Session,
    store: ObjectStore,
    actor: Actor,
    dataset_id: str,
    number: int | None,
    *,
    limit: int = 20,
) -> tuple[list[str], list[list[Any]], int]:
    version, path = open_data(session, store, actor, dataset_id, number, purpose="preview")
    pf = pq.ParquetFile(path)
    batch = next(pf.iter_batches(batch_size=max(1, min(limit, 200))), None)
    names = pf.schema_arrow.names
    rows = [] if batch is None else [list(r.values()) for r in batch.to_pylist()]
    return names, [[jsonable(v) for v in r] for r in rows], version.row_count


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
