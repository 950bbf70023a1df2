"""``yaosu scan``: screen a dataset version from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import label
from yaosu.privacy import service
from yaosu.privacy.labels import GRADE

console = Console()


@contextmanager
def _progress() -> Iterator[Callable[[float, str], None]]:
    """A Rich progress bar on stderr, fed by the service's progress callback."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=1.0)

        def report(fraction: float, stage: str) -> None:
            bar.update(task, completed=fraction, description=stage)

        yield report


def scan(
    dataset: str = typer.Option(..., "--dataset", "-d", help="数据集 ID / dataset id"),
    version: int = typer.Option(
        None, "--version", "-v", help="版本（默认最新）/ version (default latest)"
    ),
    full: bool = typer.Option(False, "--full", help="全量扫描 / scan every row, not a sample"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """筛查数据集中的个人信息并分级 / Screen a dataset version for personal information."""
    ctx = open_context()
    with ctx.db.transaction() as session, _progress() as progress:
        screen = service.screen_version(
            session,
            ctx.store,
            ctx.settings,
            system_actor(),
            dataset,
            version,
            mode="full" if full else "fast",
            progress=progress,
        )
        findings, summary = (
            screen.findings,
            (
                screen.id,
                screen.version,
                screen.personal,
                screen.sensitive,
                screen.grade,
                screen.grade_rule,
                screen.security_flags,
                screen.rows_scanned,
                screen.mode,
            ),
        )
    if as_json:
        typer.echo(json.dumps(findings, ensure_ascii=False, indent=2))
        return
    sid, number, personal, sensitive, grade, rule, flags, rows, mode = summary
    table = Table(
        "字段 / column", "类型 / entity", "占比 / share", "置信度 / confidence", "样例 / evidence"
    )
    for column in findings["columns"]:
        for e in column["entities"]:
            table.add_row(
                column["column"],
                e["entity"],
                f"{e['share']:.1%}",
                f"{e['confidence']:.2f}",
                " ".join(e["samples"]),
            )
    console.print(table)
    console.print(
        f"筛查 / screen {sid} · 版本 / version {number} · {mode} · {rows:,} 行 / rows\n"
        f"个人信息 / personal information: {'是 / yes' if personal else '否 / no'}"
        f"{' · 敏感 / sensitive: ' + ', '.join(sensitive) if sensitive else ''}\n"
        + _verdict(findings)
        + f"分级 / grade: {label(GRADE, grade).render('zh-CN')} ({grade}) — {rule}\n"
        + (f"[yellow]需人工复核 / flagged for review[/]: {'; '.join(flags)}\n" if flags else "")
        + "结果为建议，须由提供方审核员确认 / a proposal until the provider's reviewer confirms it"
    )


def deidentify(
    dataset: str = typer.Option(..., "--dataset", "-d", help="数据集 ID / dataset id"),
    version: int = typer.Option(None, "--version", "-v", help="源版本（默认最新）/ source version"),
    recipe: Path = typer.Option(
        None, "--recipe", exists=True, dir_okay=False, help="方案 JSON / recipe file"
    ),
    suggest: bool = typer.Option(
        False, "--suggest", help="只打印建议方案 / print the suggested recipe"
    ),
) -> None:
    """按方案去标识化，生成新版本 / De-identify a version into the dataset's next version."""
    from yaosu.catalog import service as catalog

    ctx = open_context()
    actor = system_actor()
    with ctx.db.transaction() as session:
        number = catalog.get_version(session, actor, dataset, version).number
        if suggest or recipe is None:
            typer.echo(
                json.dumps(
                    service.suggested_recipe(session, actor, dataset, number),
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
    try:
        doc = json.loads(recipe.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            problem=f"方案不是有效的 JSON / the recipe is not valid JSON: {exc}"
        ) from exc
    if not isinstance(doc, dict):
        raise InvalidInput(problem="方案须为 JSON 对象 / the recipe must be a JSON object")
    with _progress() as progress:
        derivation, screen = service.deidentify(
            ctx.db, ctx.store, ctx.settings, actor, dataset, number, doc, progress=progress
        )
    console.print(
        f"[green]版本 / version {derivation.result_version}[/] ← {derivation.source_version}: "
        f"{derivation.rows_in - derivation.suppressed:,} 行 / rows, 抑制 / suppressed {derivation.suppressed:,}"
        + (f", k = {derivation.k_reached}" if derivation.k_reached else "")
        + (f", l = {derivation.l_reached}" if derivation.l_reached else "")
        + f"\n复扫 / re-screen {screen.id}: 个人信息 / personal {'是 / yes' if screen.personal else '否 / no'}\n"
        + _verdict(screen.findings)
    )


def _verdict(findings: dict[str, Any]) -> str:
    """A derived version's judgement: de-identified (still personal) or anonymised, and why."""
    verdict = findings.get("deidentification")
    if not verdict:
        return ""
    why = "".join(f"  - {r['zh']} / {r['en']}\n" for r in verdict.get("reasons", []))
    return escape(f"判定 / verdict: {verdict['label_zh']} / {verdict['label_en']}\n{why}")
