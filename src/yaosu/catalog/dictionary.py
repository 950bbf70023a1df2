"""The data dictionary: per column, a description, a unit, and what is public about it.

The provider writes it; everyone who may see the dataset reads it. Two entries are public
knowledge the provider vouches for, and governed queries use them:

- a **public domain**, the list of values a column takes (the county's towns, the kinds of
  insurance). A differentially private GROUP BY on declared columns releases every declared
  group with a noisy value and no threshold (public partitions, as Tumult Analytics and
  Google's DP library do): the list was public already, so showing it reveals nobody.
- **public bounds** of a numeric column (a fee schedule's lowest and highest fee), proposed
  as the clamping bounds of SUM and AVG.

A public domain may be declared only on a column the version's confirmed screen found to be
neither personal information nor an identifier (the same rule as the profile's values), and
it is checked again at every query against the version queried.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import enforce
from yaosu.catalog.models import ColumnEntry, Dataset, DatasetVersion
from yaosu.catalog.schemas import MAX_DOMAIN_VALUES, ColumnEntryPublic, DictionaryIn
from yaosu.catalog.service import get_dataset, resource
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _
from yaosu.kernel.storage import ObjectStore
from yaosu.privacy.exposure import exposure

_NUMERIC = ("int", "uint", "float", "double", "decimal")


def _latest(session: Session, ds: Dataset) -> DatasetVersion | None:
    if not ds.latest_version:
        return None
    return session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == ds.id, DatasetVersion.number == ds.latest_version
        )
    )


def _stored(session: Session, dataset_id: str) -> dict[str, ColumnEntry]:
    rows = session.scalars(select(ColumnEntry).where(ColumnEntry.dataset_id == dataset_id))
    return {e.column: e for e in rows}


def _publishable(session: Session, ds: Dataset, version: DatasetVersion) -> frozenset[str]:
    """The columns whose values may be public knowledge: the confirmed screen found neither
    personal information nor an identifier in them (none before a screen is confirmed)."""
    names = [c["name"] for c in version.columns]
    seen = exposure(session, dataset_id=ds.id, version=version.number, columns=names)
    if not seen.confirmed or seen.withheld is None:
        return frozenset()
    return frozenset(n for n in names if n not in seen.withheld)


def entries(session: Session, actor: Actor, *, dataset_id: str) -> list[ColumnEntryPublic]:
    """The dictionary of the latest version's columns, for whoever may see the dataset."""
    ds = get_dataset(session, actor, dataset_id=dataset_id)
    version = _latest(session, ds)
    if version is None:
        return []
    stored = _stored(session, ds.id)
    publishable = _publishable(session, ds, version)
    out = []
    for column in version.columns:
        name = column["name"]
        entry = stored.get(name)
        out.append(
            ColumnEntryPublic(
                column=name,
                type=str(column.get("type", "")),
                description=entry.description if entry else "",
                unit=entry.unit if entry else "",
                domain=list(entry.domain) if entry and entry.domain is not None else None,
                lower=entry.lower if entry else None,
                upper=entry.upper if entry else None,
                may_be_public=name in publishable,
                updated_by=entry.updated_by if entry else None,
                updated_at=entry.updated_at if entry else None,
            )
        )
    return out


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _typed(column: str, values: list[str], type_name: str) -> list[Any]:
    """The declared values in the column's own type (so that they match the data), each once,
    in the order given; a value the type cannot hold is named."""
    unique = list(dict.fromkeys(v for v in values if v != ""))
    try:
        target = pa.type_for_alias(type_name)
    except (ValueError, KeyError):
        target = pa.string()
    try:
        cast = pa.array(unique, pa.string()).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for value in unique:  # find the first value that does not fit, to name it
            try:
                pa.array([value], pa.string()).cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InvalidInput(
                    problem=_(
                        "{column}: the value {value} is not a {type}",
                        column=column,
                        value=value,
                        type=type_name,
                    )
                ) from None
        raise
    return [_json_value(v) for v in cast.to_pylist()]


def _from_data(store: ObjectStore, version: DatasetVersion, column: str) -> list[Any]:
    """Every value the column takes in the version (vectorised: one column read, Arrow's
    unique), refused when there are too many to be a list of categories."""
    table = pq.read_table(store.path(version.sha256), columns=[column])
    unique = pc.unique(table.column(0).combine_chunks()).drop_null()
    if len(unique) > MAX_DOMAIN_VALUES:
        raise InvalidInput(
            problem=_(
                "{column} takes {count} different values: a public domain lists at most {limit} categories",
                column=column,
                count=len(unique),
                limit=MAX_DOMAIN_VALUES,
            )
        )
    values = sorted(unique.to_pylist(), key=lambda v: (str(type(v)), v))
    return [_json_value(v) for v in values]


def write(
    session: Session, actor: Actor, *, store: ObjectStore, dataset_id: str, data: DictionaryIn
) -> list[ColumnEntryPublic]:
    """The provider writes entries of the latest version's columns, in one audited change;
    any entry that is refused refuses them all (nothing is half-written)."""
    ds = get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "dataset.edit", resource(ds), {"opening": False, "widening": False})
    version = _latest(session, ds)
    if version is None:
        raise InvalidInput(problem=_("the dataset has no version yet"))
    types = {c["name"]: str(c.get("type", "")) for c in version.columns}
    publishable = _publishable(session, ds, version)
    stored = _stored(session, ds.id)
    names = [c.column for c in data.columns]
    if len(set(names)) != len(names):
        raise InvalidInput(problem=_("each column may appear once"))
    changed: dict[str, dict[str, Any]] = {}
    for change in data.columns:
        name = change.column
        if name not in types:
            raise InvalidInput(
                problem=_(
                    "the latest version has no column {missing} (it has: {known})",
                    missing=name,
                    known=list(types),
                )
            )
        entry = stored.get(name) or ColumnEntry(
            dataset_id=ds.id, column=name, description="", unit="", updated_by=actor.id
        )
        before = _snapshot(entry)
        if change.description is not None:
            entry.description = change.description
        if change.unit is not None:
            entry.unit = change.unit
        fields = change.model_fields_set
        if "domain" in fields or change.domain_from_data:
            if (change.domain or change.domain_from_data) and name not in publishable:
                raise InvalidInput(
                    problem=_(
                        "{column} cannot have a public domain: the confirmed screen found personal information or an identifier in it, or no screen of the latest version is confirmed yet",
                        column=name,
                    )
                )
            if change.domain_from_data:
                entry.domain = _from_data(store, version, name)
            elif change.domain:
                entry.domain = _typed(name, change.domain, types[name])
            else:
                entry.domain = None
        if "lower" in fields or "upper" in fields:
            lower = change.lower if "lower" in fields else entry.lower
            upper = change.upper if "upper" in fields else entry.upper
            if (lower is not None or upper is not None) and not types[name].startswith(_NUMERIC):
                raise InvalidInput(
                    problem=_("{column}: only a numeric column has bounds", column=name)
                )
            if (lower is None) != (upper is None) or (
                lower is not None and upper is not None and not lower < upper
            ):
                raise InvalidInput(
                    problem=_("{column}: give both bounds, the lower below the upper", column=name)
                )
            entry.lower, entry.upper = lower, upper
        after = _snapshot(entry)
        if after != before:
            entry.updated_by, entry.updated_at = actor.id, utcnow()
            session.add(entry)
            changed[name] = {"before": before, "after": after}
    session.flush()
    record(
        session,
        actor,
        action="dataset.dictionary",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        request=data.model_dump(mode="json", exclude_unset=True),
        detail={
            "version": version.number,
            "columns": sorted(changed),
            "public_domains": {
                n: len(c["after"]["domain"])
                for n, c in changed.items()
                if c["after"]["domain"] is not None
            },
        },
    )
    return entries(session, actor, dataset_id=ds.id)


def _snapshot(entry: ColumnEntry) -> dict[str, Any]:
    return {
        "description": entry.description or "",
        "unit": entry.unit or "",
        "domain": None if entry.domain is None else list(entry.domain),
        "lower": entry.lower,
        "upper": entry.upper,
    }


def public_domains(
    session: Session, *, dataset_id: str, version: int, columns: list[str]
) -> dict[str, tuple[Any, ...]]:
    """The declared public domains a governed query of this version may use (the caller has
    decided): only for columns that version's confirmed screen found neither personal nor an
    identifier, whatever was declared when. ``columns``: every column of the version (the
    screen's rule reads them all)."""
    seen = exposure(session, dataset_id=dataset_id, version=version, columns=columns)
    if not seen.confirmed or seen.withheld is None:
        return {}
    out = {}
    for name, entry in _stored(session, dataset_id).items():
        if entry.domain is not None and name in columns and name not in seen.withheld:
            out[name] = tuple(entry.domain)
    return out


def public_bounds(session: Session, *, dataset_id: str) -> dict[str, tuple[float, float]]:
    """The declared bounds of numeric columns (public knowledge; the caller has decided)."""
    return {
        name: (e.lower, e.upper)
        for name, e in _stored(session, dataset_id).items()
        if e.lower is not None and e.upper is not None
    }


def units(session: Session, *, dataset_id: str) -> dict[str, str]:
    """The declared unit of each column that has one (the caller has decided)."""
    return {n: e.unit for n, e in _stored(session, dataset_id).items() if e.unit}
