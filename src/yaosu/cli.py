"""The ``yaosu`` command. Each domain contributes its own commands."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from yaosu.access.cli import extracts_app
from yaosu.access.cli import query as query_command
from yaosu.accounts.cli import app as admin_app
from yaosu.audit.cli import app as audit_app
from yaosu.audit.verify import VerificationError
from yaosu.authorization.cli import contracts_app, purposes, requests_app
from yaosu.catalog.cli import datasets_app
from yaosu.catalog.cli import ingest as ingest_command
from yaosu.client import YaosuClientError
from yaosu.jobs.cli import app as jobs_app
from yaosu.kernel.errors import YaosuError
from yaosu.kernel.i18n import _, cli_locale, say
from yaosu.privacy.cli import deidentify as deidentify_command
from yaosu.privacy.cli import scan as scan_command
from yaosu.privacy.unit_cli import privacy_unit as privacy_unit_command
from yaosu.rights.cli import app as rights_app

app = typer.Typer(
    help="要素 Yaosu：可信数据要素流通平台 / trusted data-element exchange",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(datasets_app, name="datasets")
app.add_typer(audit_app, name="audit")
app.add_typer(jobs_app, name="jobs")
app.add_typer(rights_app, name="rights")
app.add_typer(requests_app, name="requests")
app.add_typer(contracts_app, name="contracts")
app.command("purposes")(purposes)
app.command("query")(query_command)
app.add_typer(extracts_app, name="extracts")
app.command("ingest")(ingest_command)
app.command("scan")(scan_command)
app.command("deidentify")(deidentify_command)
app.command("privacy-unit")(privacy_unit_command)
console = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """应用数据库迁移 / Apply database migrations."""
    from yaosu.context import open_context

    ctx = open_context(migrate=True)
    console.print(
        "[green]"
        + say(_("database is up to date: {value}", value=ctx.db.engine.url.render_as_string()))
        + "[/]"
    )


@app.command()
def serve(
    host: str | None = typer.Option(None, help="监听地址 / bind address"),
    port: int | None = typer.Option(None, help="端口 / port"),
) -> None:
    """启动服务 / Run the server."""
    import uvicorn

    from yaosu.api import create_app
    from yaosu.kernel.settings import get_settings

    settings = get_settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


@app.command()
def demo(
    serve_after: bool = typer.Option(
        True, "--serve/--no-serve", help="之后启动服务 / serve afterwards"
    ),
) -> None:
    """构建演示环境并启动 / Seed the demo world, then serve."""
    from yaosu.context import open_context
    from yaosu.demo.service import console_url, print_logins, seed

    ctx = open_context()
    world = seed(ctx)
    print_logins(world, url=console_url(ctx.settings.host, ctx.settings.port))
    if serve_after:
        serve(host=None, port=None)


def main() -> None:
    try:
        app()
    except YaosuError as exc:
        _audit_refusal(exc)
        console.print(f"[red]{exc.code}[/]: {exc.message(cli_locale())}")
        sys.exit(2)
    except YaosuClientError as exc:  # the witness and other tools that talk to a server
        console.print(f"[red]{exc.code}[/] (HTTP {exc.status}): {exc.message}")
        sys.exit(2)
    except VerificationError as exc:
        console.print("[red]" + say(_("VERIFICATION FAILED: {exc}", exc=exc)) + "[/]")
        sys.exit(1)


def _audit_refusal(exc: YaosuError) -> None:
    """A refusal through the CLI writes its deny entry, like one through the API."""
    if exc.denial is None:
        return
    from yaosu.authorization.policy import record_denial
    from yaosu.context import open_context

    try:
        with open_context().db.transaction() as session:
            record_denial(session, exc, {"via": "cli", "argv": sys.argv[1:2]})
    except Exception as failure:  # the refusal is still reported; the failure is shown
        console.print(
            "[red]" + say(_("could not audit the refusal: {failure}", failure=failure)) + "[/]"
        )
