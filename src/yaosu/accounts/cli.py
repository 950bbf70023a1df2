"""``yaosu admin ...``"""

from __future__ import annotations

import typer
from rich.console import Console

from yaosu.accounts import service
from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, say

app = typer.Typer(help="平台管理 / platform administration", no_args_is_help=True)
console = Console()


@app.command("create")
def create(
    username: str = typer.Option(..., "--username", "-u", help="管理员用户名 / admin username"),
    password: str = typer.Option(
        ...,
        "--password",
        "-p",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="YAOSU_ADMIN_PASSWORD",
        help="密码（至少 10 位） / password (10+ characters)",
    ),
    org_name: str = typer.Option(
        "平台运营方", "--org", help="平台机构名称 / platform organisation"
    ),
) -> None:
    """创建平台管理员 / Bootstrap the platform administrator."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        user = service.bootstrap_admin(
            session, system_actor(), username=username, password=password, org_name=org_name
        )
    console.print(
        "[green]"
        + say(_("created platform admin {username} ({id})", username=user.username, id=user.id))
        + "[/]"
    )
