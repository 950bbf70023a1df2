"""The ``yaosu`` command, run as users run it: a subprocess with YAOSU_HOME set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from yaosu.context import Context

YAOSU = [sys.executable, "-m", "yaosu"]


def run(ctx: Context, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "YAOSU_HOME": str(ctx.settings.home_dir),
        "YAOSU_DATABASE_URL": ctx.settings.db_url,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [*YAOSU, *args], env=env, capture_output=True, text=True, input=input, timeout=120
    )


def test_help_lists_every_command(ctx: Context) -> None:
    out = run(ctx, "--help")
    assert out.returncode == 0
    for command in ("serve", "demo", "db", "admin", "datasets", "ingest"):
        assert command in out.stdout


def test_db_upgrade_is_idempotent(ctx: Context) -> None:
    first, second = run(ctx, "db", "upgrade"), run(ctx, "db", "upgrade")
    assert first.returncode == second.returncode == 0, first.stderr
    assert "最新" in second.stderr


def test_admin_create_and_refusals(ctx: Context) -> None:
    ok = run(ctx, "admin", "create", "--username", "ops-admin", "--password", "a-long-password")
    assert ok.returncode == 0, ok.stderr
    assert "ops-admin" in ok.stdout
    again = run(ctx, "admin", "create", "--username", "ops-admin", "--password", "a-long-password")
    assert again.returncode == 2
    assert (
        "CONFLICT" in again.stderr
        and "already exists" in again.stderr
        and "Traceback" not in again.stderr
    )
    short = run(ctx, "admin", "create", "--username", "ops2", "--password", "short")
    assert short.returncode == 2 and "10" in short.stderr


def test_datasets_list_and_search(ctx: Context) -> None:
    out = run(ctx, "datasets", "list")
    assert out.returncode == 0, out.stderr
    assert "2024年各乡镇农产品销售数据" in out.stdout and "不予开放" in out.stdout
    found = run(ctx, "datasets", "list", "-q", "农产品")
    assert "农产品" in found.stdout and "参保" not in found.stdout


def test_ingest_with_progress_and_errors(ctx: Context, tmp_path: Path) -> None:
    from tests.catalog.helpers import new_dataset

    ds = new_dataset(ctx)
    path = tmp_path / "乡镇.csv"
    path.write_bytes("乡镇,人口\n城关镇,1200\n石桥镇,800\n".encode("gbk"))
    out = run(ctx, "ingest", str(path), "--dataset", ds)
    assert out.returncode == 0, out.stderr
    assert "版本 / version 1" in out.stdout and "GBK" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1\n", encoding="utf-8")
    failed = run(ctx, "ingest", str(bad), "--dataset", ds)
    assert failed.returncode == 2
    assert (
        "RAGGED_ROWS" in failed.stderr
        and "第 2 行" in failed.stderr
        and "Traceback" not in failed.stderr
    )
    missing = run(ctx, "ingest", str(path), "--dataset", "ds_missing")
    assert missing.returncode == 2 and "NOT_FOUND" in missing.stderr


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_demo_no_serve_on_a_fresh_home(tmp_path: Path, backend: str) -> None:
    env = {**os.environ, "YAOSU_HOME": str(tmp_path / "fresh"), "COLUMNS": "200"}
    env.pop("YAOSU_DATABASE_URL", None)
    first = subprocess.run(
        [*YAOSU, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    assert "bureau-admin" in first.stdout and "yaosu-demo-2026" in first.stdout
    assert (tmp_path / "fresh" / "yaosu.db").exists()
    assert len(list((tmp_path / "fresh" / "data" / "objects").rglob("*.parquet"))) == 3
    second = subprocess.run(
        [*YAOSU, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=300
    )
    assert second.returncode == 0 and second.stdout.count("ds_") == 3
