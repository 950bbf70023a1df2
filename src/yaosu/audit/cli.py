"""``yaosu audit ...``: keys, checkpoints, proofs, export, offline verify, in-place check,
and the witness side (``yaosu audit witness``) that regulators run on their own machines."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from yaosu.audit import transparency, verify
from yaosu.audit.keys import Signer, load_or_create
from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, say

app = typer.Typer(help="审计存证 / the verifiable audit log", no_args_is_help=True)
witness_app = typer.Typer(
    help="见证方（监管部门）/ witness tools for regulators", no_args_is_help=True
)
app.add_typer(witness_app, name="witness")
console = Console()
err = Console(stderr=True)


@app.command("key")
def key() -> None:
    """打印日志的验证公钥 / Print the log's verifier key."""
    ctx = open_context()
    typer.echo(transparency.log_signer(ctx.settings).verifier_key())


@app.command("checkpoint")
def checkpoint() -> None:
    """立即签发检查点 / Sign a checkpoint now."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        made = transparency.make_checkpoint(session, signer=transparency.log_signer(ctx.settings))
        note = made.note if made else None
    if note is None:
        err.print(say(_("the log is empty")))
        raise typer.Exit(1)
    typer.echo(note, nl=False)


@app.command("prove")
def prove(
    index: int = typer.Argument(..., min=0, help="记录序号 / leaf index"),
    size: int = typer.Option(
        None, "--size", help="检查点大小（默认最新）/ checkpoint size (default latest)"
    ),
) -> None:
    """输出某条记录的包含证明 / Print an inclusion proof, against a stated checkpoint."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        proof = transparency.prove_inclusion(session, system_actor(), index=index, size=size)
        out = {
            "index": proof.index,
            "size": proof.size,
            "leaf_hash": proof.leaf_hash.hex(),
            "proof": [h.hex() for h in proof.proof],
            "checkpoint": proof.checkpoint.note,
        }
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


@app.command("consistency")
def consistency(
    first: int = typer.Argument(..., min=1), second: int = typer.Argument(..., min=1)
) -> None:
    """输出两个检查点之间的一致性证明 / Print a consistency proof between two checkpoints."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        proof, old, new = transparency.prove_consistency(session, old=first, new=second)
        out = {
            "first": first,
            "second": second,
            "proof": [h.hex() for h in proof],
            "first_root": old.root,
            "second_root": new.root,
        }
    typer.echo(json.dumps(out, indent=2))


@app.command("export")
def export(file: Path = typer.Argument(..., dir_okay=False, writable=True)) -> None:
    """导出全部记录与检查点，供离线验证 / Export entries and checkpoints for the offline verifier."""
    ctx = open_context()
    lines = 0
    with ctx.db.transaction() as session, file.open("wb") as fh:
        for line in transparency.export_lines(session, origin=ctx.settings.audit_origin):
            fh.write(line)
            lines += 1
    err.print("[green]" + say(_("exported {file} ({lines} lines)", file=file, lines=lines)) + "[/]")


@app.command("verify", context_settings={"allow_extra_args": False})
def verify_command(
    export: Path = typer.Argument(..., exists=True, dir_okay=False),
    key: str = typer.Option(
        ..., "--key", help="日志验证公钥或其文件 / the log's verifier key, or a file"
    ),
    since: Path = typer.Option(
        None, "--since", exists=True, help="此前保存的检查点 / a checkpoint you kept"
    ),
    witness: list[str] = typer.Option([], "--witness", help="见证方公钥 / witness verifier key"),
) -> None:
    """离线验证导出文件（不连数据库与服务器）/ Verify an export offline."""
    args = [str(export), "--key", key]
    if since:
        args += ["--since", str(since)]
    for w in witness:
        args += ["--witness", w]
    raise typer.Exit(verify.main(args))


@app.command("check")
def check() -> None:
    """检查数据库中的审计记录是否被篡改 / Check the live database for tampering."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        result = transparency.check(session, settings=ctx.settings)
    if not result.ok:
        err.print(f"[red]TAMPERED[/]: {result.message}")
        raise typer.Exit(1)
    console.print(f"[green]OK[/]: {result.message}")


@witness_app.command("keygen")
def keygen(
    name: str = typer.Option(..., "--name", help="见证名称，如 cac.example/witness / witness name"),
    out: Path = typer.Option(..., "--out", help="私钥文件 / private key file (created 0600)"),
) -> None:
    """生成见证密钥，打印其验证公钥 / Create a witness key and print its verifier key."""
    if out.exists():
        err.print(say(_("{out} exists", out=out)))
        raise typer.Exit(1)
    signer = load_or_create(out, name, verify.COSIGNATURE)
    typer.echo(signer.verifier_key())


@witness_app.command("cosign")
def cosign(
    server: str = typer.Option(..., "--server", help="Yaosu 地址 / server URL"),
    token: str = typer.Option(
        ..., "--token", envvar="YAOSU_TOKEN", help="监管部门的 API 令牌 / token"
    ),
    key_file: Path = typer.Option(..., "--key", exists=True, help="见证私钥 / witness private key"),
    log_key: str = typer.Option(
        ..., "--log-key", help="日志验证公钥（预先固定）/ the log's pinned verifier key"
    ),
    state: Path = typer.Option(
        ..., "--state", help="上次联署的检查点 / where the last cosigned checkpoint is kept"
    ),
) -> None:
    """核验一致性后联署最新检查点 / Check consistency with the last cosigned checkpoint, then cosign the latest."""
    from yaosu.client import Client

    signer = Signer.parse(key_file.read_text())
    pinned = verify.Verifier.parse(Path(log_key).read_text() if Path(log_key).exists() else log_key)
    with Client(server, token=token) as client:
        note = client.audit_checkpoint()["note"]
        latest = verify.Checkpoint.parse(note)
        latest.verify(pinned)
        if state.exists():
            previous = verify.Checkpoint.parse(state.read_text(encoding="utf-8"))
            previous.verify(pinned)
            if latest.size < previous.size:
                err.print(
                    "[red]"
                    + say(
                        _(
                            "the log went back: {size} -> {size2}",
                            size=previous.size,
                            size2=latest.size,
                        )
                    )
                    + "[/]"
                )
                raise typer.Exit(1)
            if latest.size > previous.size:
                proof = client.audit_consistency(previous.size, latest.size)
                verify.verify_consistency(
                    previous.size,
                    latest.size,
                    [bytes.fromhex(h) for h in proof["proof"]],
                    previous.root,
                    latest.root,
                )
            elif latest.root != previous.root:
                err.print("[red]" + say(_("same size, different root: a fork")) + "[/]")
                raise typer.Exit(1)
        client.audit_cosign(latest.size, signer.sign(latest.body))
    state.write_text(note, encoding="utf-8")
    console.print("[green]" + say(_("cosigned checkpoint {size}", size=latest.size)) + "[/]")
