"""``yaosu algorithms ...`` and ``yaosu jobs ...``: bundle and file algorithms, read the public
register, submit and follow compute-to-data jobs, and (the operator) end overdue ones.

Filing and submitting act as a user, so they go through the API with the user's token
(``--server``/``--token``, or ``YAOSU_SERVER``/``YAOSU_TOKEN``); reading the register and
ending overdue jobs run on the server as its local operator.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from yaosu.compute import bundles, ethics, jobs, service
from yaosu.compute.labels import FILING_KIND, FILING_STATE, JOB_STATE
from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, cli_locale, label, say

algorithms_app = typer.Typer(help="算法备案 / filed algorithms", no_args_is_help=True)
jobs_app = typer.Typer(help="数据不出域的计算任务 / compute-to-data jobs", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

Server = typer.Option(None, "--server", envvar="YAOSU_SERVER", help="平台地址 / server URL")
Token = typer.Option(None, "--token", envvar="YAOSU_TOKEN", help="API 令牌 / API token")


def _client(server: str | None, token: str | None) -> Any:
    from yaosu.client import Client

    if not server or not token:
        err.print(
            "[red]"
            + say(_("--server and --token are needed (or YAOSU_SERVER and YAOSU_TOKEN)"))
            + "[/]"
        )
        raise typer.Exit(2)
    return Client(server, token=token, lang=os.environ.get("YAOSU_LANG", "zh-CN"))


def _remote(call: Any) -> Any:
    from yaosu.client import YaosuClientError

    try:
        return call()
    except YaosuClientError as exc:
        err.print(f"[red]{exc.code}[/]: {exc.message}")
        raise typer.Exit(1) from exc


def _echo(doc: Any) -> None:
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


@algorithms_app.command("bundle")
def bundle(
    folder: Path = typer.Argument(
        ..., help="含 algorithm.json 的目录 / folder with algorithm.json"
    ),
    out: Path = typer.Option(None, "--out", help="写出 zip / write the zip here"),
) -> None:
    """打包并校验算法，显示其哈希 / Zip and check a bundle; print the hash providers trust."""
    if not (folder / "algorithm.json").is_file():
        err.print("[red]" + say(_("{folder} has no algorithm.json", folder=str(folder))) + "[/]")
        raise typer.Exit(2)
    data = bundles.zip_folder(folder)
    parsed = bundles.parse(data)  # a problem is answered as every command's are
    if out is not None:
        out.write_bytes(data)
    typer.echo(parsed.sha256)


@algorithms_app.command("file")
def file_(
    filing: Path = typer.Argument(..., help="备案表（JSON）/ the filing form, JSON"),
    folder: Path = typer.Option(..., "--bundle", help="算法目录 / the algorithm's folder"),
    server: str = Server,
    token: str = Token,
) -> None:
    """提交算法备案 / File an algorithm through the API, as the token's user."""
    try:
        form = json.loads(filing.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        err.print("[red]" + say(_("{path} is not a JSON file", path=str(filing))) + "[/]")
        raise typer.Exit(2) from exc
    with _client(server, token) as client:
        data = bundles.zip_folder(folder)
        _echo(_remote(lambda: client.file_algorithm(form, bundle=data)))


@algorithms_app.command("register")
def register(as_json: bool = typer.Option(False, "--json", help="JSON 输出 / print JSON")) -> None:
    """算法备案公示 / The public register: filed algorithms and their filing numbers."""
    ctx = open_context()
    lang = cli_locale()
    with ctx.db.transaction() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": a.id,
                "filing_number": a.filing_number,
                "name": a.name,
                "status": a.status,
                "field": a.field,
                "sha256": a.sha256,
                "public_text": a.public_text,
            }
            for a in service.public_register(session)
        ]
    if as_json:
        _echo(rows)
        return
    table = Table(
        say(_("filing number")), say(_("algorithm's name")), say(_("field")), say(_("state"))
    )
    for r in rows:
        table.add_row(
            r["filing_number"] or "",
            r["name"],
            r["field"],
            label(FILING_STATE, r["status"]).render(lang),
        )
    console.print(table)


@algorithms_app.command("filings")
def filings(as_json: bool = typer.Option(False, "--json", help="JSON 输出 / print JSON")) -> None:
    """待决定的备案 / Filings waiting for the department, the nearest deadline first."""
    ctx = open_context()
    lang = cli_locale()
    with ctx.db.transaction() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": f.id,
                "algorithm": f.algorithm_id,
                "kind": f.kind,
                "due_on": f.due_on.isoformat(),
                "provisional": f.provisional,
                "late": f.late,
            }
            for f in service.filings_due(session, system_actor())
        ]
    if as_json:
        _echo(rows)
        return
    table = Table("ID", say(_("algorithm")), say(_("kind")), say(_("decide by")))
    for r in rows:
        due = r["due_on"] + (" *" if r["provisional"] else "")
        table.add_row(r["id"], r["algorithm"], label(FILING_KIND, r["kind"]).render(lang), due)
    console.print(table)


@jobs_app.command("submit")
def submit(
    contract: str = typer.Option(..., "--contract", "-c", help="授权协议 ID / contract id"),
    algorithm: str = typer.Option(..., "--algorithm", "-a", help="算法 ID / algorithm id"),
    params: str = typer.Option("{}", "--params", help="参数（JSON）/ parameters, JSON"),
    wait: bool = typer.Option(False, "--wait", help="等待结束 / wait until it ends"),
    server: str = Server,
    token: str = Token,
) -> None:
    """提交计算任务 / Submit a compute-to-data job under a contract."""
    try:
        values = json.loads(params)
    except json.JSONDecodeError as exc:
        err.print("[red]" + say(_("--params is not JSON")) + "[/]")
        raise typer.Exit(2) from exc
    with _client(server, token) as client:
        job = _remote(lambda: client.submit_job(contract, algorithm, params=values))
        if wait and job["status"] != "awaiting_approval":
            job = _remote(lambda: client.wait_job(job["id"]))
    _echo(job)


@jobs_app.command("show")
def show(
    job_id: str = typer.Argument(..., help="任务 ID / job id"),
    server: str = Server,
    token: str = Token,
) -> None:
    """任务详情（状态、日志、输出检查）/ A job: state, checked log, output check report."""
    with _client(server, token) as client:
        _echo(_remote(lambda: client.job(job_id)))


@jobs_app.command("download")
def download(
    job_id: str = typer.Argument(..., help="任务 ID / job id"),
    name: str = typer.Argument(..., help="输出名 / output name"),
    out: Path = typer.Option(..., "--out", help="写入文件 / file to write"),
    server: str = Server,
    token: str = Token,
) -> None:
    """下载已放行的输出 / Download a released output."""
    with _client(server, token) as client:
        out.write_bytes(_remote(lambda: client.job_output(job_id, name)))
    console.print(say(_("written to {path}", path=str(out))))


@jobs_app.command("list")
def list_(
    status: str = typer.Option(None, "--status", help="状态 / state"),
    as_json: bool = typer.Option(False, "--json", help="JSON 输出 / print JSON"),
) -> None:
    """列出计算任务 / List compute jobs, newest first (on the server)."""
    ctx = open_context()
    lang = cli_locale()
    with ctx.db.transaction() as session:
        rows = [
            {
                "id": j.id,
                "status": j.status,
                "contract": j.contract_id,
                "algorithm": j.algorithm_id,
                "created_at": j.created_at.isoformat(),
            }
            for j in jobs.list_jobs(session, system_actor(), status=status)
        ]
    if as_json:
        _echo(rows)
        return
    table = Table("ID", say(_("state")), say(_("contract")), say(_("algorithm")))
    for r in rows:
        table.add_row(
            r["id"], label(JOB_STATE, r["status"]).render(lang), r["contract"], r["algorithm"]
        )
    console.print(table)


@jobs_app.command("expire")
def expire() -> None:
    """结束超时的任务 / End jobs that waited too long for approval, the queue or review.

    Ethics approvals whose follow-up review is overdue lapse first, suspending their jobs."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        lapsed = ethics.lapse(session, system_actor())
        ended = jobs.expire(session, system_actor())
    console.print(say(_("{n} ethics approvals lapsed", n=len(lapsed))))
    console.print(say(_("{n} jobs ended", n=len(ended))))
