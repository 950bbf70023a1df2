"""What other domains read about datasets: plain data, never the catalog's rows.

Re-exported by ``catalog.service``, the door other domains use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yaosu.catalog.models import Dataset


@dataclass(frozen=True)
class DatasetFacts:
    """A dataset's identity and state, without its versions."""

    id: str
    title: str
    owner_org_id: str
    theme: str
    openness: str
    latest_version: int
    clean_version: int | None


def find_dataset(session: Session, *, dataset_id: str) -> DatasetFacts | None:
    """No decision is made here: callers that show a dataset to an actor use ``get_dataset``."""
    ds = session.get(Dataset, dataset_id)
    if ds is None:
        return None
    return DatasetFacts(
        ds.id,
        ds.title,
        ds.owner_org_id,
        ds.theme,
        ds.openness,
        ds.latest_version,
        ds.clean_version,
    )


def dataset_titles(session: Session, *, ids: Iterable[str] | None = None) -> dict[str, str]:
    """Dataset titles by id: every dataset's, or those of ``ids`` that exist."""
    stmt = select(Dataset.id, Dataset.title)
    if ids is not None:
        stmt = stmt.where(Dataset.id.in_(set(ids)))
    return {dataset_id: title for dataset_id, title in session.execute(stmt)}


def count_datasets(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Dataset)) or 0
