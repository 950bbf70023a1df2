"""The ``yaosu`` command. Each domain contributes its own commands."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from yaosu.access.cli import extracts_app
from yaosu.access.cli import query as query_command
from yaosu.accounts.cli import app as admin_app
from yaosu.audit import transparency
from yaosu.audit.cli import app as audit_app
from yaosu.authorization.cli import contracts_app, purposes, requests_app
from yaosu.authorization.policy import record_denial
from yaosu.catalog.cli import datasets_app
from yaosu.catalog.cli import ingest as ingest_command
from yaosu.client import YaosuClientError
from yaosu.compute.cli import algorithms_app, jobs_app
from yaosu.context import Context, open_context
from yaosu.kernel.errors import (
    Internal,
    LogCorrupt,
    SchemaAhead,
    SchemaBehind,
    YaosuError,
    translate,
)
from yaosu.kernel.i18n import _, cli_locale, say
from yaosu.kernel.settings import get_settings
from yaosu.lineage.cli import app as lineage_app
from yaosu.market.cli import app as market_app
from yaosu.privacy.cli import deidentify as deidentify_command
from yaosu.privacy.cli import scan as scan_command
from yaosu.privacy.unit_cli import privacy_unit as privacy_unit_command
from yaosu.rights.cli import app as rights_app
from yaosu.tasks.cli import app as tasks_app

console = Console(stderr=True)


class _Answering(TyperGroup):
    """The one place the CLI answers an error: any error ``translate`` knows is printed as its
    code and message, with no traceback; a refusal writes its deny entry, as through the API.
    Exit 1 when a check found the audit log does not verify (as ``audit verify`` and ``audit
    check`` do), 2 for every other error. A bug (``Internal``) keeps its traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click: its Context is private
        try:
            return super().invoke(ctx)
        except YaosuClientError as exc:  # the witness and other tools that talk to a server
            console.print(f"[red]{exc.code}[/] (HTTP {exc.status}): {exc.message}")
            raise typer.Exit(2) from exc
        except (SchemaBehind, SchemaAhead) as exc:  # one line, in the operator's language
            typer.echo(exc.message(get_settings().default_locale), err=True)
            raise typer.Exit(1) from exc
        except Exception as exc:
            error = translate(exc)
            if isinstance(error, Internal) and error is not exc:
                raise  # a bug, or click's own exit and usage errors
            _audit_refusal(error)
            console.print(f"[red]{error.code}[/]: {error.message(cli_locale())}")
            raise typer.Exit(1 if isinstance(error, LogCorrupt) else 2) from exc


app = typer.Typer(
    cls=_Answering,
    help="要素 Yaosu：可信数据要素流通平台 / trusted data-element exchange",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(datasets_app, name="datasets")
app.add_typer(audit_app, name="audit")
app.add_typer(tasks_app, name="tasks")
app.add_typer(rights_app, name="rights")
app.add_typer(market_app, name="market")
app.add_typer(lineage_app, name="lineage")
app.add_typer(algorithms_app, name="algorithms")
app.add_typer(jobs_app, name="jobs")
app.add_typer(requests_app, name="requests")
app.add_typer(contracts_app, name="contracts")
app.command("purposes")(purposes)
app.command("query")(query_command)
app.add_typer(extracts_app, name="extracts")
app.command("ingest")(ingest_command)
app.command("scan")(scan_command)
app.command("deidentify")(deidentify_command)
app.command("privacy-unit")(privacy_unit_command)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """应用数据库迁移 / Apply database migrations."""
    ctx = open_context(migrate=True)
    _first_start(ctx)
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

    settings = get_settings()
    app = create_app(settings, migrate=True)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port)


@app.command()
def demo(
    serve_after: bool = typer.Option(
        True, "--serve/--no-serve", help="之后启动服务 / serve afterwards"
    ),
) -> None:
    """构建演示环境并启动 / Seed the demo world, then serve."""
    from yaosu.demo.service import console_url, print_logins, seed

    ctx = open_context(migrate=True)
    _first_start(ctx)
    world = seed(ctx)
    print_logins(world, url=console_url(ctx.settings.host, ctx.settings.port))
    if serve_after:
        serve(host=None, port=None)


def _first_start(ctx: Context) -> None:
    """What a fresh installation needs besides its schema: the log's signing key exists from
    the first start, so it can be pinned before anything is signed."""
    transparency.log_signer(ctx.settings)


def main() -> None:
    app()


def _audit_refusal(exc: YaosuError) -> None:
    """A refusal through the CLI writes its deny entry, like one through the API."""
    if exc.denial is None:
        return

    try:
        with open_context().db.transaction() as session:
            record_denial(session, exc, {"via": "cli", "argv": sys.argv[1:2]})
    except Exception as failure:  # the refusal is still reported; the failure is shown
        console.print(
            "[red]" + say(_("could not audit the refusal: {failure}", failure=failure)) + "[/]"
        )
