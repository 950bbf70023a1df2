"""``yaosu audit ...`` as users run it, including a regulator's witness over the API."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import token_for
from tests.test_cli import run
from yaosu.context import Context


def test_key_checkpoint_prove_consistency_export_verify_check(ctx: Context, tmp_path: Path) -> None:
    key = run(ctx, "audit", "key")
    assert key.returncode == 0 and key.stdout.startswith("yaosu.local/audit-log+")
    first = run(ctx, "audit", "checkpoint")
    assert first.returncode == 0 and first.stdout.startswith("yaosu.local/audit-log\n")
    first_size = int(first.stdout.split("\n")[1])
    run(ctx, "admin", "create", "--username", "ops-admin", "--password", "a-long-password")
    second = run(ctx, "audit", "checkpoint")
    second_size = int(second.stdout.split("\n")[1])
    assert second_size > first_size
    proof = json.loads(run(ctx, "audit", "prove", "2", "--size", str(first_size)).stdout)
    assert proof["size"] == first_size and len(proof["proof"]) >= 1
    consistency = json.loads(
        run(ctx, "audit", "consistency", str(first_size), str(second_size)).stdout
    )
    assert consistency["proof"]
    export = tmp_path / "audit.ndjson"
    assert run(ctx, "audit", "export", str(export)).returncode == 0
    saved = tmp_path / "first.checkpoint"
    saved.write_text(first.stdout, encoding="utf-8")
    verified = run(
        ctx, "audit", "verify", str(export), "--key", key.stdout.strip(), "--since", str(saved)
    )
    assert verified.returncode == 0 and "OK" in verified.stdout, verified.stderr
    assert run(ctx, "audit", "check").returncode == 0
    missing = run(ctx, "audit", "prove", "99999")
    assert missing.returncode == 2 and "NOT_FOUND" in missing.stderr


def test_regulator_runs_a_witness_against_the_server(
    ctx: Context, server: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "witness.key"
    keygen = run(
        ctx, "audit", "witness", "keygen", "--name", "cac.example/w-test", "--out", str(key_file)
    )
    assert keygen.returncode == 0 and key_file.stat().st_mode & 0o077 == 0
    token = token_for(ctx, "cac-inspector")
    import httpx

    registered = httpx.post(
        f"{server}/api/v1/audit/witnesses",
        json={"vkey": keygen.stdout.strip()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert registered.status_code == 201, registered.text
    log_key = run(ctx, "audit", "key").stdout.strip()
    state = tmp_path / "last.checkpoint"
    args = [
        "audit",
        "witness",
        "cosign",
        "--server",
        server,
        "--token",
        token,
        "--key",
        str(key_file),
        "--log-key",
        log_key,
        "--state",
        str(state),
    ]
    run(ctx, "audit", "checkpoint")
    first = run(ctx, *args)
    assert first.returncode == 0, first.stderr
    run(ctx, "admin", "create", "--username", "ops-admin2", "--password", "a-long-password")
    run(ctx, "audit", "checkpoint")
    second = run(ctx, *args)  # checks consistency with the first before signing
    assert second.returncode == 0, second.stderr
    # The checkpoint it cosigned, asked for by its size: the server's schedule may sign a
    # newer one (not yet cosigned) at any moment, so "the latest" would race the scheduler.
    cosigned = state.read_text(encoding="utf-8").split("\n")[1]
    signed = httpx.get(f"{server}/api/v1/audit/checkpoints/{cosigned}").json()
    assert signed["size"] == int(cosigned) and "cac.example/w-test" in signed["witnesses"]
    # a forged log key: the witness refuses to sign what the pinned key did not sign
    forged = run(
        ctx,
        *args[:-4],
        "--log-key",
        keygen.stdout.strip().replace("w-test", "w-x"),
        "--state",
        str(state),
        lang="en",
    )
    assert (
        forged.returncode == 1
        and "AUDIT_LOG_CORRUPT" in forged.stderr
        and "Traceback" not in forged.stderr
    )
    other_log = run(ctx, *args[:-4], "--log-key", keygen.stdout.strip(), "--state", str(state))
    assert other_log.returncode == 1 and "not signed" in other_log.stderr
