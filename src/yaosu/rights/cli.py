"""``yaosu rights ...``: check a certificate offline, list rights, show a chain of title."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from yaosu.audit.verify import VerificationError
from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, label, say
from yaosu.kernel.settings import get_settings
from yaosu.rights import certify, service
from yaosu.rights.labels import GRANT_SOURCE, GRANT_STATE, RIGHT_KIND
from yaosu.rights.service import certificate_signer

app = typer.Typer(help="数据产权登记 / data property rights", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("verify")
def verify(
    certificate: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="证书文件 / certificate JSON"
    ),
    key: str = typer.Option(
        None,
        "--key",
        help="平台证书验证公钥（默认本机平台的）/ the platform's certificate key (default: this server's)",
    ),
) -> None:
    """离线核验权利证书 / Check a right certificate offline (no database, no server)."""
    try:
        doc = json.loads(certificate.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        err.print("[red]" + say(_("not valid JSON: {exc}", exc=exc)) + "[/]")
        raise typer.Exit(2) from exc
    if key is None:
        key = certificate_signer(get_settings()).verifier_key()
    try:
        document = certify.check(doc, key)
    except VerificationError as exc:
        err.print("[red]" + say(_("INVALID: {exc}", exc=exc)) + "[/]")
        raise typer.Exit(1) from exc
    console.print(
        "[green]"
        + say(
            _(
                "VALID {code} · {right} · {name} · {title} v{version} sha256 {value}… · {value2} – {value3}",
                code=document["code"],
                right_zh=document["right_zh"],
                right=document["right"],
                name=document["holder"]["name"],
                title=document["object"]["title"],
                version=document["object"]["version"],
                value=document["object"]["sha256"][:16],
                value2=document["valid_from"][:10],
                value3=document["valid_until"][:10],
            )
        )
        + "[/]"
    )


@app.command("list")
def list_(
    dataset: str = typer.Option(None, "--dataset", "-d", help="数据集 ID / dataset id"),
    holder: str = typer.Option(None, "--holder", help="持有机构 ID / holder organisation id"),
) -> None:
    """列出权利 / List rights."""
    ctx = open_context()
    lang = ctx.settings.default_locale
    with ctx.db.transaction() as session:
        rows = [
            (
                g.id,
                label(RIGHT_KIND, g.kind).render(lang),
                g.object_id,
                g.holder_org_id,
                label(GRANT_SOURCE, g.source).render(lang),
                label(GRANT_STATE, g.status).render(lang),
                f"{g.ends_at:%Y-%m-%d}",
            )
            for g in service.list_grants(
                session, system_actor(), holder_org_id=holder, dataset_id=dataset
            )
        ]
    table = Table(
        "ID",
        say(_("right")),
        say(_("object")),
        say(_("holder")),
        say(_("source")),
        say(_("status")),
        say(_("until")),
    )
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("chain")
def chain(grant: str = typer.Argument(..., help="权利 ID / right id")) -> None:
    """权利链条（从原始取得到此权利）/ The chain of title of a right."""
    ctx = open_context()
    lang = ctx.settings.default_locale
    with ctx.db.transaction() as session:
        links = service.chain(
            session, grant=service.get_grant(session, system_actor(), grant_id=grant)
        )
        lines = [
            f"{i}. {g.id} {label(RIGHT_KIND, g.kind).render(lang)}"
            f" · {label(GRANT_SOURCE, g.source).render(lang)}"
            f" · {g.grantor_org_id or '—'} → {g.holder_org_id}"
            f" · {label(GRANT_STATE, g.status).render(lang)}"
            for i, g in enumerate(links, 1)
        ]
    console.print("\n".join(lines))
