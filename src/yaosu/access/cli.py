"""``yaosu query``: run governed SQL under a contract, from the consumer's own machine,
through the API (the consumer's token decides what it may see)."""

from __future__ import annotations

import json
import os

import typer
from rich.console import Console
from rich.table import Table

from yaosu.access import extract
from yaosu.context import open_context
from yaosu.kernel.i18n import _, say

console = Console()
err = Console(stderr=True)


def query(
    sql: str = typer.Argument(..., help="SQL（DuckDB 方言）/ SQL, DuckDB dialect"),
    contract: str = typer.Option(..., "--contract", "-c", help="授权协议 ID / contract id"),
    epsilon: float = typer.Option(0.0, "--epsilon", "-e", help="本次隐私预算 / ε for this query"),
    bound: list[str] = typer.Option(
        [], "--bound", help="求和/平均字段的取值范围 / clamp bounds, COLUMN=LOW:HIGH (repeatable)"
    ),
    server: str = typer.Option(
        None, "--server", envvar="YAOSU_SERVER", help="平台地址 / server URL (YAOSU_SERVER)"
    ),
    token: str = typer.Option(
        None, "--token", envvar="YAOSU_TOKEN", help="API 令牌 / API token (YAOSU_TOKEN)"
    ),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """受控查询：在授权协议范围内计算，原始数据不出域 / Governed SQL under a contract."""
    from yaosu.client import Client, YaosuClientError

    if not server or not token:
        err.print(
            "[red]"
            + say(_("--server and --token are needed (or YAOSU_SERVER and YAOSU_TOKEN)"))
            + "[/]"
        )
        raise typer.Exit(2)
    bounds: dict[str, tuple[float, float]] = {}
    for item in bound:
        try:
            column, span = item.rsplit("=", 1)
            low, high = span.split(":")
            bounds[column] = (float(low), float(high))
        except ValueError as exc:
            err.print(
                "[red]" + say(_("--bound must be COLUMN=LOW:HIGH: {item}", item=item)) + "[/]"
            )
            raise typer.Exit(2) from exc
    try:
        with Client(server, token=token, lang=os.environ.get("YAOSU_LANG", "zh-CN")) as client:
            table = client.query(contract, sql, epsilon=epsilon, bounds=bounds)
    except YaosuClientError as exc:
        err.print(f"[red]{exc.code}[/]: {exc.message}")
        raise typer.Exit(1) from exc
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    if as_json:
        typer.echo(
            json.dumps(
                {"rows": table.to_pylist(), **meta}, ensure_ascii=False, default=str, indent=2
            )
        )
        return
    out = Table(*table.column_names)
    for row in table.to_pylist():
        out.add_row(*[str(v) for v in row.values()])
    console.print(out)
    accuracy = json.loads(meta.get("accuracy", "{}"))
    notes = [f"ε = {meta.get('epsilon')}"]
    if accuracy:
        notes.append("95% ± " + ", ".join(f"{k} {v['ci95']:.4g}" for k, v in accuracy.items()))
    if meta.get("epsilon_left") not in (None, "None"):
        notes.append(
            say(
                _(
                    "budget left ε = {epsilon_left}",
                    epsilon_left=format(float(meta["epsilon_left"]), ".4g"),
                )
            )
        )
    console.print(" · ".join(notes))


extracts_app = typer.Typer(help="数据提取 / de-identified extracts", no_args_is_help=True)


@extracts_app.command("trace")
def trace(
    leaked: str = typer.Argument(..., help="泄露的文件（Parquet 或 CSV）/ the leaked file"),
    dataset: str = typer.Option(..., "--dataset", "-d", help="数据集 ID / dataset id"),
) -> None:
    """追溯泄露文件来自哪份授权协议 / Trace a leaked extract back to its contract."""
    from pathlib import Path

    path = Path(leaked)
    if not path.is_file():
        err.print("[red]" + say(_("no such file: {leaked}", leaked=leaked)) + "[/]")
        raise typer.Exit(2)
    scores = extract.run_trace(open_context(), path=path, dataset_id=dataset)
    if not scores:
        err.print(say(_("no extract of this dataset carries pseudonyms to compare")))
        raise typer.Exit(1)
    table = Table(say(_("extract")), say(_("contract")), say(_("recipient")), say(_("match")))
    for s in scores:
        table.add_row(s["extract"], s["contract"], s["recipient"], f"{s['match']:.1%}")
    console.print(table)
