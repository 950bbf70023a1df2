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

from yaosu.catalog import versions
from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _, cli_locale, label, localise, say
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
            system_actor(),
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=dataset,
            number=version,
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
        say(_("column")),
        say(_("entity")),
        say(_("share")),
        say(_("confidence")),
        say(_("evidence")),
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
        say(
            _(
                "screen {sid} · version {number} · {mode} · {rows} rows",
                sid=sid,
                number=number,
                mode=mode,
                rows=format(rows, ","),
            )
        )
        + "\n"
        + say(
            _("personal information: {answer}", answer=_("yes") if personal else _("no"))
            if not sensitive
            else _(
                "personal information: {answer} · sensitive: {sensitive}",
                answer=_("yes") if personal else _("no"),
                sensitive=list(sensitive),
            )
        )
        + "\n"
        + _verdict(findings)
        + say(_("grade: {grade} — {rule}", grade=label(GRADE, grade), rule=rule))
        + (
            "[yellow]" + say(_("flagged for review: {value}", value="; ".join(flags))) + "[/]"
            if flags
            else ""
        )
        + say(_("a proposal until the provider's reviewer confirms it"))
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
    ctx = open_context()
    actor = system_actor()
    with ctx.db.transaction() as session:
        number = versions.get_version(session, actor, dataset_id=dataset, number=version).number
        if suggest or recipe is None:
            typer.echo(
                json.dumps(
                    service.suggested_recipe(
                        session, actor, dataset_id=dataset, number=number, k=ctx.settings.anon_k
                    ),
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
    try:
        doc = json.loads(recipe.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(problem=_("the recipe is not valid JSON: {exc}", exc=exc)) from exc
    if not isinstance(doc, dict):
        raise InvalidInput(problem=_("the recipe must be a JSON object"))
    with _progress() as progress:
        derivation, screen = service.run_deidentify(
            ctx, actor, dataset_id=dataset, number=number, recipe_doc=doc, progress=progress
        )
    console.print(
        "[green]"
        + say(_("version {number}", number=derivation.result_version))
        + "[/]"
        + say(
            _(
                " ← {source}: {rows} rows, {suppressed} suppressed",
                source=derivation.source_version,
                rows=format(derivation.rows_in - derivation.suppressed, ","),
                suppressed=format(derivation.suppressed, ","),
            )
        )
        + (f", k = {derivation.k_reached}" if derivation.k_reached else "")
        + (f", l = {derivation.l_reached}" if derivation.l_reached else "")
        + "\n"
        + say(
            _(
                "re-screen {id}: personal information: {answer}",
                id=screen.id,
                answer=_("yes") if screen.personal else _("no"),
            )
        )
        + "\n"
        + _verdict(screen.findings)
    )


def _verdict(findings: dict[str, Any]) -> str:
    """A derived version's judgement: de-identified (still personal) or anonymised, and why."""
    verdict = findings.get("deidentification")
    if not verdict:
        return ""
    # The verdict is stored with its texts in both languages; the terminal shows one.
    why = "".join(f"  - {localise(r, cli_locale())}\n" for r in verdict.get("reasons", []))
    label = {"zh": verdict["label_zh"], "en": verdict["label_en"]}
    return escape(say(_("verdict: {label}", label=label)) + "\n" + why)
