"""Catalog: datasets: register, describe, find, and the decision function's view of one.

A dataset's versions (ingest, profiles, preview, the read of rows) are in ``versions``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization.policy import (
    Resource,
    Rows,
    enforce,
    visible,
)
from yaosu.catalog import search
from yaosu.catalog.labels import OPENNESS
from yaosu.catalog.models import Dataset, SearchTerm
from yaosu.catalog.queries import count_datasets, dataset_titles, find_dataset  # noqa: F401
from yaosu.catalog.schemas import DatasetCreate, DatasetPublic, DatasetUpdate
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import _, label
from yaosu.kernel.ids import new_id
from yaosu.privacy.exposure import confirmed_grade

# More entries of the DCAT catalog (``dcat.export``) from domains above this one, such as the
# market's listed products with their offers: each a function (session, actor, base=url) ->
# JSON-LD nodes, registered by that domain (the catalog may not import it).
DcatEntries = Callable[..., list[dict[str, Any]]]
DCAT_ENTRIES: list[DcatEntries] = []


def dcat_entries_from(source: DcatEntries) -> DcatEntries:
    DCAT_ENTRIES.append(source)
    return source


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


def mark_screened(session: Session, *, dataset_id: str, version: int, clean: bool) -> None:
    """Called by the privacy domain when a reviewer confirms a screen of ``version``."""
    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise NotFound(kind=_("Dataset"), id=dataset_id)
    if clean:
        ds.clean_version = max(version, ds.clean_version or 0)
    elif ds.clean_version == version:
        ds.clean_version = None


def public(session: Session, *, ds: Dataset) -> DatasetPublic:
    return DatasetPublic.model_validate(
        {
            **{c: getattr(ds, c) for c in DatasetPublic.model_fields if hasattr(ds, c)},
            "publisher": accounts.org_names(session, ids=[ds.owner_org_id]).get(
                ds.owner_org_id, ""
            ),
            "openness_label": label(OPENNESS, ds.openness).render(
                "zh-CN"
            ),  # the API's Chinese label
        }
    )


# --- datasets ------------------------------------------------------------------------------


def create_dataset(session: Session, actor: Actor, *, data: DatasetCreate) -> Dataset:
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
        action="dataset.create",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        request=data.model_dump(mode="json"),
    )
    return ds


def get_dataset(session: Session, actor: Actor, *, dataset_id: str) -> Dataset:
    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise NotFound(kind=_("Dataset"), id=dataset_id)
    enforce(actor, "dataset.view", resource(ds))
    return ds


def update_dataset(
    session: Session, actor: Actor, *, dataset_id: str, data: DatasetUpdate
) -> Dataset:
    ds = get_dataset(session, actor, dataset_id=dataset_id)
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
        action="dataset.open" if widening else "dataset.update",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        request=changes,
        detail=detail,
    )
    return ds


_OPENNESS_RANK = {"closed": 0, "conditional": 1, "open": 2}
OPENING_NOTIFIES = "数据局"  # the department told when important data is opened


def _confirmed_grade(session: Session, ds: Dataset) -> str | None:
    if not ds.latest_version:
        return None
    return confirmed_grade(session, dataset_id=ds.id, version=ds.latest_version)


def _reindex(session: Session, ds: Dataset) -> None:
    publisher = accounts.org_names(session, ids=[ds.owner_org_id]).get(ds.owner_org_id, "")
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


def own_datasets(session: Session, actor: Actor, *, limit: int = 200) -> list[Dataset]:
    """The datasets of the actor's own organisation that hold a version, newest change
    first (one query, no facets: what the inbox asks on every page)."""
    if actor.org_id is None:
        return []
    stmt = (
        select(Dataset)
        .where(
            visible(actor, "dataset.view", ROWS),
            Dataset.owner_org_id == actor.org_id,
            Dataset.latest_version > 0,
        )
        .order_by(Dataset.updated_at.desc(), Dataset.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
