"""``yaosu lineage ...``: export the OpenLineage events, send them to an endpoint, walk a
product's or a dataset's lineage."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, cli_locale, label, say
from yaosu.lineage import service
from yaosu.lineage.labels import JOB

app = typer.Typer(help="数据血缘 / lineage (OpenLineage)", no_args_is_help=True)
console = Console()


@app.command("export")
def export(
    out: Path = typer.Option(
        None, "--out", help="写入文件（默认标准输出）/ file (default: stdout)"
    ),
    name: str = typer.Option(None, "--name", help="只导出涉及此数据集的 / naming this dataset"),
    since: datetime = typer.Option(None, "--since", help="起始时间 / from this time (ISO 8601)"),
) -> None:
    """导出血缘事件（NDJSON）/ Export the OpenLineage events as NDJSON, oldest first."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        lines = list(
            service.ndjson(service.list_events(session, system_actor(), name=name, since=since))
        )
    if out is None:
        sys.stdout.writelines(lines)
    else:
        out.write_text("".join(lines), encoding="utf-8")
        console.print(say(_("{n} events written to {path}", n=len(lines), path=str(out))))


@app.command("send")
def send() -> None:
    """发送到 OpenLineage 端点 / Send the events not yet sent to YAOSU_LINEAGE_URL."""
    ctx = open_context()
    result = service.send(ctx.db, ctx.settings)
    console.print(say(_("{n} events sent, {left} waiting", n=result.sent, left=result.left)))
    if result.error:
        console.print(say(_("the endpoint refused: {error}", error=result.error)))
        raise typer.Exit(1)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="products/<id> 或 datasets/<id>/v<n>"),
    down: bool = typer.Option(False, "--down", help="也看下游 / also what was made from it"),
    as_json: bool = typer.Option(False, "--json", help="JSON 输出 / print JSON"),
) -> None:
    """血缘图 / The lineage around a dataset or product: each run, what it read and made."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        g = service.graph(session, start=[name], up=True, down=down)
    if as_json:
        typer.echo(json.dumps(g.as_json(), ensure_ascii=False, indent=2))
        return
    for run in g.runs.values():
        inputs = [a for a, b in g.edges if b == run["id"]]
        outputs = [b for a, b in g.edges if a == run["id"]]
        who = run.get("org_name") or run.get("actor") or ""
        words = label(JOB, run["job"]).render(cli_locale())
        console.print(f"[bold]{words}[/bold]  {run['at']}  {who}", highlight=False)
        for n in inputs:
            console.print(f"  ← {_title(g, n)}", highlight=False)
        for n in outputs:
            console.print(f"  → {_title(g, n)}", highlight=False)
    if not g.runs:
        console.print(say(_("no lineage recorded for {name}", name=name)))


def _title(g: service.Graph, name: str) -> str:
    node = g.datasets.get(name, {})
    org = node.get("org_name")
    return f"{node.get('title', name)} ({name})" + (f" · {org}" if org else "")
