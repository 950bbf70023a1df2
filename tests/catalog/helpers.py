from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import actor
from yaosu.catalog import service, versions
from yaosu.catalog.models import DatasetVersion
from yaosu.catalog.schemas import DatasetCreate
from yaosu.context import Context


def new_dataset(ctx: Context, title: str = "测试数据集", openness: str = "open") -> str:
    with ctx.db.transaction() as session:
        ds = service.create_dataset(
            session,
            actor(ctx, "bureau-admin"),
            data=DatasetCreate(title=title, theme="测试", openness=openness),
        )
        return ds.id


def ingest(ctx: Context, path: Path, filename: str | None = None, **kw: object) -> DatasetVersion:
    ds = new_dataset(ctx)
    return versions.run_ingest(
        ctx,
        actor(ctx, "bureau-admin"),
        dataset_id=ds,
        source=path,
        filename=filename or path.name,
        **kw,  # type: ignore[arg-type]
    )


def snapshot(ctx: Context) -> tuple[int, set[Path], list[Path]]:
    """Versions in the database, objects in the store, files left in tmp."""
    with ctx.db.transaction() as session:
        versions = session.scalar(select(func.count()).select_from(DatasetVersion)) or 0
    objects = set(ctx.store.objects.rglob("*.parquet"))
    return versions, objects, list(ctx.store.tmp.iterdir())
