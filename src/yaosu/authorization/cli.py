"""``yaosu purposes``, ``yaosu requests ...`` and ``yaosu contracts ...``: the operator's view
of authorisation. Reviews are organisations' decisions, made in the console or the API."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from yaosu.authorization import odrl as odrl_format
from yaosu.authorization import service
from yaosu.authorization.schemas import ContractPublic
from yaosu.authorization.states import APPROVALS, RequestState
from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, say

requests_app = typer.Typer(help="授权申请 / access requests", no_args_is_help=True)
contracts_app = typer.Typer(help="授权协议 / contracts", no_args_is_help=True)
console = Console()


def purposes() -> None:
    """列出用途目录及收费类别 / List the purpose taxonomy and its pricing classes."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        rows = [(p.code, p.name_zh, p.name_en, p.pricing) for p in service.list_purposes(session)]
    table = Table(say(_("code")), "用途", "purpose", say(_("pricing")))
    for row in rows:
        table.add_row(*row)
    console.print(table)


@requests_app.command("list")
def list_requests(
    status: RequestState | None = typer.Option(None, "--status", help="状态 / status"),
) -> None:
    """列出授权申请 / List access requests."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        rows = []
        for r in service.list_requests(session, system_actor(), status=status):
            reviews = service.reviews_of(session, request_id=r.id)
            done = sum(v.status in APPROVALS for v in reviews)
            rows.append(
                (
                    r.id,
                    r.requester_org_id,
                    r.purpose,
                    r.status,
                    f"{done}/{len(reviews)}",
                    f"{r.due_at:%Y-%m-%d}",
                )
            )
    table = Table(
        "ID",
        say(_("requester")),
        say(_("purpose")),
        say(_("status")),
        say(_("approved")),
        say(_("due")),
    )
    for row in rows:
        table.add_row(*row)
    console.print(table)


@contracts_app.command("list")
def list_contracts() -> None:
    """列出授权协议 / List contracts, with uses and budget spent."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        rows = [
            (
                c.id,
                c.consumer_org_id,
                service.status_of(c),
                f"{c.uses}/{c.max_uses or '∞'}",
                f"{c.epsilon_spent:g}/{c.epsilon_budget:g}"
                if c.epsilon_budget is not None
                else "—",
                f"{c.ends_at:%Y-%m-%d}",
            )
            for c in service.list_contracts(session, system_actor())
        ]
    table = Table("ID", say(_("consumer")), say(_("status")), say(_("uses")), "ε", say(_("ends")))
    for row in rows:
        table.add_row(*row)
    console.print(table)


@contracts_app.command("show")
def show(
    contract: str = typer.Argument(..., help="协议 ID / contract id"),
    odrl: bool = typer.Option(
        False, "--odrl", help="输出 ODRL 2.2 JSON-LD / print ODRL 2.2 JSON-LD"
    ),
) -> None:
    """查看协议 / Show a contract (or its ODRL form)."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        c = service.get_contract(session, system_actor(), contract_id=contract)
        doc = (
            odrl_format.to_odrl(c)
            if odrl
            else ContractPublic.model_validate(c).model_dump(mode="json")
        )
        if not odrl:
            doc["status"] = service.status_of(c)
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def _change(contract: str, action: str, reason: str) -> None:
    ctx = open_context()
    with ctx.db.transaction() as session:
        c = service.change_status(
            session, system_actor(), contract_id=contract, action=action, reason=reason
        )
        status = c.status
    console.print(f"{contract}: {status}")


@contracts_app.command("accept")
def accept(contract: str = typer.Argument(..., help="协议 ID / contract id")) -> None:
    """代数据使用方接受协议条款，协议自此生效 / Accept an offered contract's terms for its data
    user: it comes into force now."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        status = service.accept(session, system_actor(), contract_id=contract).status
    console.print(f"{contract}: {status}")


@contracts_app.command("decline")
def decline(
    contract: str = typer.Argument(..., help="协议 ID / contract id"),
    reason: str = typer.Option(..., "--reason", help="理由 / reason"),
) -> None:
    """代数据使用方拒绝协议条款 / Decline an offered contract's terms for its data user."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        c = service.decline(session, system_actor(), contract_id=contract, reason=reason)
        status = c.status
    console.print(f"{contract}: {status}")


@contracts_app.command("suspend")
def suspend(
    contract: str = typer.Argument(..., help="协议 ID / contract id"),
    reason: str = typer.Option(..., "--reason", help="理由 / reason"),
) -> None:
    """暂停协议 / Suspend a contract."""
    _change(contract, "suspend", reason)


@contracts_app.command("resume")
def resume(
    contract: str = typer.Argument(..., help="协议 ID / contract id"),
    reason: str = typer.Option(..., "--reason", help="理由 / reason"),
) -> None:
    """恢复协议 / Resume a suspended contract."""
    _change(contract, "resume", reason)


@contracts_app.command("revoke")
def revoke(
    contract: str = typer.Argument(..., help="协议 ID / contract id"),
    reason: str = typer.Option(..., "--reason", help="理由 / reason"),
) -> None:
    """终止协议 / Revoke a contract for good."""
    _change(contract, "revoke", reason)
