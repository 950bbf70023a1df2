"""``yaosu rights ...``: check a certificate offline, list rights, show a chain of title."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from yaosu.audit.verify import VerificationError

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
    from yaosu.rights import certify

    try:
        doc = json.loads(certificate.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        err.print(f"[red]不是有效的 JSON / not valid JSON[/]: {exc}")
        raise typer.Exit(2) from exc
    if key is None:
        from yaosu.kernel.settings import get_settings
        from yaosu.rights.service import certificate_signer

        key = certificate_signer(get_settings()).verifier_key()
    try:
        document = certify.check(doc, key)
    except VerificationError as exc:
        err.print(f"[red]无效 / INVALID[/]: {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"[green]有效 / VALID[/] {document['code']} · {document['right_zh']} ({document['right']}) · "
        f"{document['holder']['name']} · {document['object']['title']} v{document['object']['version']} "
        f"sha256 {document['object']['sha256'][:16]}… · {document['valid_from'][:10]} – {document['valid_until'][:10]}"
    )


@app.command("list")
def list_(
    dataset: str = typer.Option(None, "--dataset", "-d", help="数据集 ID / dataset id"),
    holder: str = typer.Option(None, "--holder", help="持有机构 ID / holder organisation id"),
) -> None:
    """列出权利 / List rights."""
    from yaosu.context import open_context
    from yaosu.kernel.actor import system_actor
    from yaosu.kernel.i18n import label
    from yaosu.rights import service
    from yaosu.rights.labels import GRANT_SOURCE, GRANT_STATE, RIGHT_KIND

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
        "权利 / right",
        "对象 / object",
        "持有 / holder",
        "来源 / source",
        "状态 / status",
        "至 / until",
    )
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("chain")
def chain(grant: str = typer.Argument(..., help="权利 ID / right id")) -> None:
    """权利链条（从原始取得到此权利）/ The chain of title of a right."""
    from yaosu.context import open_context
    from yaosu.kernel.actor import system_actor
    from yaosu.kernel.i18n import label
    from yaosu.rights import service
    from yaosu.rights.labels import GRANT_SOURCE, GRANT_STATE, RIGHT_KIND

    ctx = open_context()
    lang = ctx.settings.default_locale
    with ctx.db.transaction() as session:
        links = service.chain(session, service.get_grant(session, system_actor(), grant))
        lines = [
            f"{i}. {g.id} {label(RIGHT_KIND, g.kind).render(lang)}"
            f" · {label(GRANT_SOURCE, g.source).render(lang)}"
            f" · {g.grantor_org_id or '—'} → {g.holder_org_id}"
            f" · {label(GRANT_STATE, g.status).render(lang)}"
            for i, g in enumerate(links, 1)
        ]
    console.print("\n".join(lines))
