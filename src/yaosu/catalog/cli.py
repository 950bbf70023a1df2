"""``yaosu datasets ...`` and ``yaosu ingest``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Column, Table

from yaosu.catalog import service, versions
from yaosu.catalog.labels import OPENNESS
from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, label, say

datasets_app = typer.Typer(help="数据目录 / catalog", no_args_is_help=True)
console = Console()


@datasets_app.command("list")
def list_datasets(
    q: str = typer.Option(None, "--q", "-q", help="检索词 / search words"),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """列出数据集 / List datasets."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        found = service.list_datasets(session, system_actor(), q=q, limit=limit)
        table = Table(say(_("title")), say(_("openness")), say(_("ver")), say(_("provider")))
        table.columns.insert(0, Column("ID", no_wrap=True))
        for ds in found.items:
            pub = service.public(session, ds=ds)
            table.add_row(
                ds.id,
                ds.title,
                label(OPENNESS, ds.openness).render(ctx.settings.default_locale),
                str(ds.latest_version),
                pub.publisher,
            )
    console.print(table)
    console.print(say(_("{total} in all", total=found.total)))


def ingest(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    dataset: str = typer.Option(..., "--dataset", "-d", help="数据集 ID / dataset id"),
    sheet: str = typer.Option(None, "--sheet", help="XLSX 工作表 / XLSX sheet name"),
) -> None:
    """导入文件为数据集新版本 / Ingest a file as the dataset's next version."""
    ctx = open_context()
    size = file.stat().st_size
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(say(_("ingest {name}", name=file.name)), total=size)
        version = versions.run_ingest(
            ctx,
            system_actor(),
            dataset_id=dataset,
            source=file,
            filename=file.name,
            sheet=sheet,
            progress=lambda done: bar.update(task, completed=done),
        )
        bar.update(task, completed=size)
    console.print(
        "[green]"
        + say(_("version {number}", number=version.number))
        + "[/]: "
        + say(
            _(
                "{rows} rows, {columns} columns, {source}, sha256 {sha}…, {seconds}s",
                rows=format(version.row_count, ","),
                columns=len(version.columns),
                source=version.source_encoding or version.source_format,
                sha=version.sha256[:16],
                seconds=format(version.ingest_seconds, ".1f"),
            )
        )
    )
