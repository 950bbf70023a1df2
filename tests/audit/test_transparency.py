"""The transparency log end to end: checkpoints, proofs at a stated size, witnesses,
export and offline verification, and tampering behind the application's back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import actor, auth
from yaosu.audit import log, transparency
from yaosu.audit.keys import Signer
from yaosu.audit.service import record
from yaosu.audit.verify import (
    COSIGNATURE,
    Checkpoint,
    VerificationError,
    Verifier,
    verify_consistency,
    verify_export,
    verify_inclusion,
)
from yaosu.context import Context
from yaosu.kernel.errors import NotFound


def grow(ctx: Context, n: int) -> None:
    bureau = actor(ctx, "bureau-admin")
    with ctx.db.transaction() as session:
        for i in range(n):
            record(
                session,
                bureau,
                action="test.event",
                object_type="dataset",
                object_id=f"ds_{i}",
                object_org_id=bureau.org_id,
            )


def checkpoint(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        made = transparency.make_checkpoint(session, signer=transparency.log_signer(ctx.settings))
        assert made is not None
        return made.size


def exported(ctx: Context) -> bytes:
    with ctx.db.transaction() as session:
        return b"".join(transparency.export_lines(session, origin=ctx.settings.audit_origin))


def log_key(ctx: Context) -> Verifier:
    return transparency.log_signer(ctx.settings).verifier()


def test_demo_log_is_checkpointed_cosigned_and_verifies(ctx: Context) -> None:
    report = verify_export(iter(io.BytesIO(exported(ctx))), log_key(ctx))
    assert report.signed_size > 20 and report.entries >= report.signed_size
    witness_keys = []
    for name in ("cac-inspector", "dsj-inspector"):
        signer = Signer.parse((ctx.settings.home_dir / "witnesses" / f"{name}.key").read_text())
        witness_keys.append(signer.verifier())
    report = verify_export(iter(io.BytesIO(exported(ctx))), log_key(ctx), witnesses=witness_keys)
    assert sorted(report.signers[report.signed_size]) == sorted(
        ["yaosu.local/audit-log", "cac.jiangzhou.example/witness", "dsj.jiangzhou.example/witness"]
    )


def test_key_file_lives_outside_the_database_with_tight_permissions(ctx: Context) -> None:
    path = ctx.settings.audit_key_path
    assert path.exists() and path.stat().st_mode & 0o077 == 0
    assert path.read_text().startswith("PRIVATE+KEY+yaosu.local/audit-log+")
    with ctx.db.engine.connect() as conn:
        dump = " ".join(str(r) for r in conn.execute(text("SELECT note FROM audit_checkpoints")))
    assert "PRIVATE" not in dump


@pytest.mark.usefixtures("paused_schedule")
def test_proofs_are_against_a_stated_checkpoint(app_client: TestClient, ctx: Context) -> None:
    first = checkpoint(ctx)
    grow(ctx, 37)
    second = checkpoint(ctx)
    grow(ctx, 5)  # the log moves on; proofs must not
    headers = auth(ctx, "cac-inspector")
    vkey = Verifier.parse(app_client.get("/api/v1/audit/key").json()["vkey"])
    for size in (first, second):
        r = app_client.get(f"/api/v1/audit/entries/3/inclusion?size={size}", headers=headers).json()
        assert r["size"] == size
        cp = Checkpoint.parse(r["checkpoint"])
        cp.verify(vkey)
        verify_inclusion(
            3, size, bytes.fromhex(r["leaf_hash"]), [bytes.fromhex(h) for h in r["proof"]], cp.root
        )
    latest = app_client.get("/api/v1/audit/entries/3/inclusion", headers=headers).json()
    assert latest["size"] == second  # the latest *checkpoint*, never the moving current size
    c = app_client.get(f"/api/v1/audit/consistency?first={first}&second={second}").json()
    verify_consistency(
        first,
        second,
        [bytes.fromhex(h) for h in c["proof"]],
        bytes.fromhex(c["first_root"]),
        bytes.fromhex(c["second_root"]),
    )
    # sizes that are not checkpoints, entries after the checkpoint: clear refusals
    assert (
        app_client.get(
            f"/api/v1/audit/entries/3/inclusion?size={second + 1}", headers=headers
        ).status_code
        == 404
    )
    after = app_client.get(
        f"/api/v1/audit/entries/{second + 2}/inclusion?size={second}", headers=headers
    )
    assert after.status_code == 422
    assert (
        app_client.get(f"/api/v1/audit/consistency?first={second}&second={first}").status_code
        == 422
    )


def test_an_organisation_proves_only_entries_about_itself(
    app_client: TestClient, ctx: Context
) -> None:
    checkpoint(ctx)
    entries = app_client.get("/api/v1/audit?limit=500", headers=auth(ctx, "platform-admin")).json()[
        "items"
    ]
    coop_org = actor(ctx, "coop-manager").org_id
    foreign = next(
        e
        for e in entries
        if coop_org not in (e["actor_org_id"], e["object_org_id"]) and e["checkpointed"]
    )
    r = app_client.get(
        f"/api/v1/audit/entries/{foreign['leaf_index']}/inclusion",
        headers=auth(ctx, "coop-manager"),
    )
    assert r.status_code == 403


@pytest.mark.usefixtures("paused_schedule")
def test_entries_show_whether_they_are_checkpointed(app_client: TestClient, ctx: Context) -> None:
    size = checkpoint(ctx)
    grow(ctx, 2)
    body = app_client.get("/api/v1/audit?limit=500", headers=auth(ctx, "platform-admin")).json()
    assert body["signed_size"] == size
    flags = {e["leaf_index"]: e["checkpointed"] for e in body["items"]}
    assert flags[size - 1] is True and flags[max(flags)] is False


@pytest.mark.usefixtures("paused_schedule")
def test_only_the_platform_signs_on_demand(app_client: TestClient, ctx: Context) -> None:
    grow(ctx, 1)
    assert (
        app_client.post("/api/v1/audit/checkpoints", headers=auth(ctx, "bureau-admin")).status_code
        == 403
    )
    r = app_client.post("/api/v1/audit/checkpoints", headers=auth(ctx, "platform-admin"))
    assert r.status_code == 201
    assert app_client.get("/api/v1/audit/checkpoints/latest").json()["size"] == r.json()["size"]


def test_witness_cosigns_after_checking_consistency(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    headers = auth(ctx, "cac-inspector")
    witness = Signer.parse((ctx.settings.home_dir / "witnesses" / "cac-inspector.key").read_text())
    grow(ctx, 9)
    size = checkpoint(ctx)
    note = app_client.get(f"/api/v1/audit/checkpoints/{size}").json()["note"]
    body = Checkpoint.parse(note).body
    r = app_client.post(
        f"/api/v1/audit/checkpoints/{size}/cosignatures",
        json={"signature": witness.sign(body)},
        headers=headers,
    )
    assert r.status_code == 201 and "cac.jiangzhou.example/witness" in r.json()["witnesses"]
    Checkpoint.parse(r.json()["note"]).verify(log_key(ctx), [witness.verifier()])
    # a signature over something else, a stranger's key, a non-regulator: refused
    bad = app_client.post(
        f"/api/v1/audit/checkpoints/{size}/cosignatures",
        json={"signature": witness.sign("other\n")},
        headers=headers,
    )
    assert bad.status_code == 422
    stranger = Signer.generate("cac.jiangzhou.example/witness", COSIGNATURE)
    assert (
        app_client.post(
            f"/api/v1/audit/checkpoints/{size}/cosignatures",
            json={"signature": stranger.sign(body)},
            headers=headers,
        ).status_code
        == 422
    )
    assert (
        app_client.post(
            f"/api/v1/audit/checkpoints/{size}/cosignatures",
            json={"signature": witness.sign(body)},
            headers=auth(ctx, "bureau-admin"),
        ).status_code
        == 403
    )
    # going back to an older checkpoint after a newer one is refused
    older = app_client.get("/api/v1/audit/checkpoints").json()["items"][-1]
    old_body = Checkpoint.parse(older["note"]).body
    back = app_client.post(
        f"/api/v1/audit/checkpoints/{older['size']}/cosignatures",
        json={"signature": witness.sign(old_body)},
        headers=headers,
    )
    assert back.status_code == 422


def test_register_witness_validation(app_client: TestClient, ctx: Context) -> None:
    headers = auth(ctx, "dsj-inspector")
    log_type = Signer.generate("dsj.example/other").verifier_key()  # 0x01, not a cosignature key
    assert (
        app_client.post(
            "/api/v1/audit/witnesses", json={"vkey": log_type}, headers=headers
        ).status_code
        == 422
    )
    assert (
        app_client.post(
            "/api/v1/audit/witnesses", json={"vkey": "not+a+key"}, headers=headers
        ).status_code
        == 422
    )
    fresh = Signer.generate("dsj.example/w2", COSIGNATURE).verifier_key()
    assert (
        app_client.post(
            "/api/v1/audit/witnesses", json={"vkey": fresh}, headers=auth(ctx, "coop-manager")
        ).status_code
        == 403
    )
    ok = app_client.post("/api/v1/audit/witnesses", json={"vkey": fresh}, headers=headers)
    assert ok.status_code == 201
    assert (
        app_client.post(
            "/api/v1/audit/witnesses", json={"vkey": fresh}, headers=headers
        ).status_code
        == 409
    )
    assert any(
        w["name"] == "dsj.example/w2" for w in app_client.get("/api/v1/audit/witnesses").json()
    )


def test_the_log_refuses_to_sign_a_rewritten_tree(ctx: Context) -> None:
    """Signing reads O(log n) stored subtrees; if they no longer add up to the right edge
    or to the last checkpoint, the log stops signing (a leaf-level edit is left to check)."""
    checkpoint(ctx)
    grow(ctx, 3)
    _without_triggers(
        ctx, "UPDATE audit_tree SET hash = :h WHERE level > 0 AND idx = 0", h="00" * 32
    )
    with pytest.raises(log.LogCorrupt), ctx.db.transaction() as session:
        transparency.make_checkpoint(session, signer=transparency.log_signer(ctx.settings))


# --- tampering behind the application's back ---------------------------------------------------


def _without_triggers(ctx: Context, statement: str, **params: object) -> None:
    """What an attacker with database access does: switch off the guards and write."""
    with ctx.db.engine.connect() as conn, conn.begin():
        if conn.dialect.name == "sqlite":
            for table in ("audit_entries", "audit_tree"):
                for verb in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for part in statement.split(";"):
            conn.execute(text(part), params)


TAMPERING = [
    ("edited", "UPDATE audit_entries SET action = 'dataset.delete' WHERE leaf_index = 5", 5),
    ("deleted", "DELETE FROM audit_entries WHERE leaf_index = 7", 7),
    (
        "reordered",
        "UPDATE audit_entries SET leaf_index = -1 WHERE leaf_index = 4;"
        "UPDATE audit_entries SET leaf_index = 4 WHERE leaf_index = 6;"
        "UPDATE audit_entries SET leaf_index = 6 WHERE leaf_index = -1",
        4,
    ),
]


@pytest.mark.parametrize(("kind", "statement", "index"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_check_and_offline_verify_find_tampering(
    ctx: Context, tmp_path: Path, kind: str, statement: str, index: int
) -> None:
    checkpoint(ctx)
    with ctx.db.transaction() as session:
        assert transparency.check(session, settings=ctx.settings).ok
    _without_triggers(ctx, statement)
    with ctx.db.transaction() as session:
        result = transparency.check(session, settings=ctx.settings)
    assert not result.ok
    assert (result.index, result.kind) == (index, kind), result.message
    with pytest.raises(VerificationError) as caught:
        verify_export(iter(io.BytesIO(exported(ctx))), log_key(ctx))
    assert (caught.value.index, caught.value.kind) == (index, kind)


def test_inserted_row_is_found(ctx: Context) -> None:
    size = checkpoint(ctx)
    _without_triggers(
        ctx,
        "INSERT INTO audit_entries (leaf_index, at, actor_id, action, object_type, object_id, decision, reason, request_hash, detail) "
        "VALUES (:i, :at, 'usr_x', 'dataset.read', 'dataset', 'ds_x', 'allow', '', :h, '{}')",
        i=size + 1000,
        at="2026-01-01 00:00:00",
        h="0" * 64,
    )
    with ctx.db.transaction() as session:
        result = transparency.check(session, settings=ctx.settings)
    assert (result.ok, result.kind) == (False, "inserted")


def test_a_rewritten_tree_fails_against_the_signature(ctx: Context) -> None:
    checkpoint(ctx)
    _without_triggers(
        ctx, "UPDATE audit_tree SET hash = :h WHERE level = 0 AND idx = 2", h="ab" * 32
    )
    with ctx.db.transaction() as session:
        result = transparency.check(session, settings=ctx.settings)
    assert not result.ok and result.kind == "rewritten"


def test_offline_verifier_cli_against_an_export_file(ctx: Context, tmp_path: Path) -> None:
    import subprocess
    import sys

    checkpoint(ctx)
    export = tmp_path / "audit.ndjson"
    export.write_bytes(exported(ctx))
    key = str(log_key(ctx))
    saved = tmp_path / "old.checkpoint"
    with ctx.db.transaction() as session:
        saved.write_text(transparency.get_checkpoint(session).note, encoding="utf-8")
    # the verifier runs without the database, the server, or even yaosu's settings
    cmd = [
        sys.executable,
        "-m",
        "yaosu.audit.verify",
        str(export),
        "--key",
        key,
        "--since",
        str(saved),
    ]
    ok = subprocess.run(cmd, capture_output=True, text=True, env={"PATH": "/usr/bin"}, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "OK:" in ok.stdout
    lines = export.read_bytes().split(b"\n")
    entry_at = next(i for i, line in enumerate(lines) if line.startswith(b'{"entry":'))
    lines.pop(entry_at + 2)  # delete the third entry from the file
    export.write_bytes(b"\n".join(lines))
    bad = subprocess.run(cmd, capture_output=True, text=True, env={"PATH": "/usr/bin"}, timeout=60)
    assert bad.returncode == 1 and "entry 2 was deleted" in bad.stderr
    wrong_key = subprocess.run(
        [*cmd[:5], Signer.generate("yaosu.local/audit-log").verifier_key()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong_key.returncode == 1 and "not signed" in wrong_key.stderr


def test_verifier_imports_nothing_but_the_standard_library_and_cryptography() -> None:
    import ast

    import yaosu.audit.verify as module

    tree = ast.parse(Path(module.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    import sys

    assert roots - set(sys.stdlib_module_names) == {"cryptography"}


def test_empty_log_has_no_checkpoint(empty_ctx: Context) -> None:
    empty_ctx.db.upgrade()
    with empty_ctx.db.transaction() as session:
        assert (
            transparency.make_checkpoint(
                session, signer=transparency.log_signer(empty_ctx.settings)
            )
            is None
        )
        with pytest.raises(NotFound):
            transparency.get_checkpoint(session)


def test_the_server_signs_checkpoints_on_a_schedule(ctx: Context) -> None:
    import time

    from yaosu.api import create_app

    ctx.settings.audit_checkpoint_seconds = 1
    app = create_app(ctx.settings, migrate=False)
    app.state.yaosu = ctx
    with ctx.db.transaction() as session:
        before = log.latest_checkpoint(session)
        assert before is not None
    grow(ctx, 3)
    with ctx.db.transaction() as session:
        size = log.size(session)
    with TestClient(app):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with ctx.db.transaction() as session:
                latest = log.latest_checkpoint(session)
                assert latest is not None
                if latest.size > before.size:
                    break
            time.sleep(0.2)
    assert latest.size == size > before.size


def test_proof_cache_never_keeps_nodes_of_a_rolled_back_append(ctx: Context) -> None:
    """Upper tree nodes are cached across requests; an append that rolls back must not leave
    its nodes there, or later proofs would lead to a root nobody signed."""
    bureau = actor(ctx, "bureau-admin")
    with ctx.db.transaction() as session:
        start = log.size(session)
    # Grow to the next size of the form 128k + 64: the rolled-back entries complete upper
    # (cached) nodes that lie on leaf 0's proof path.
    pad = (start // 128 + 1) * 128 + 64 - start
    with pytest.raises(RuntimeError), ctx.db.transaction() as session:
        for i in range(pad):
            record(
                session,
                bureau,
                action="test.rolled_back",
                object_type="dataset",
                object_id=f"ds_{i}",
            )
        log.inclusion_proof(session, index=0, tree_size=start + pad)
        raise RuntimeError("roll back")
    grow(ctx, pad)
    size = checkpoint(ctx)
    with ctx.db.transaction() as session:
        root = log.root(session, tree_size=size)
        leaf = next(h for i, h in log.iter_leaves(session) if i == 0)
        verify_inclusion(0, size, leaf, log.inclusion_proof(session, index=0, tree_size=size), root)
