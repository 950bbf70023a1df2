"""The ``yaosu`` command, run as users run it: a subprocess with YAOSU_HOME set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from yaosu.context import Context

YAOSU = [sys.executable, "-m", "yaosu"]


def run(
    ctx: Context, *args: str, input: str | None = None, lang: str = "zh-CN"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "YAOSU_HOME": str(ctx.settings.home_dir),
        "YAOSU_DATABASE_URL": ctx.settings.db_url,
        "YAOSU_LANG": lang,
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
    again = run(
        ctx,
        "admin",
        "create",
        "--username",
        "ops-admin",
        "--password",
        "a-long-password",
        lang="en",
    )
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
    assert "版本 1" in out.stdout and "GBK" in out.stdout
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

    def objects() -> list[str]:
        return sorted(p.name for p in (tmp_path / "fresh" / "data" / "objects").rglob("*.parquet"))

    made = objects()
    # a version of each of the eight datasets, the four extracts the supplier received, and
    # the compute jobs' table outputs (each stored once, by its hash)
    import json
    import sqlite3

    with sqlite3.connect(tmp_path / "fresh" / "yaosu.db") as db:
        outputs = {
            o["sha256"]
            for (doc,) in db.execute("SELECT outputs FROM compute_jobs")
            for o in json.loads(doc)
            if o["suffix"] == ".parquet"
        }
    assert len(outputs) >= 2  # a statistics table and a forecast, at least
    assert len(made) == 12 + len(outputs), made
    second = subprocess.run(
        [*YAOSU, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=300
    )
    # a second run finds the world and adds nothing
    assert second.returncode == 0 and objects() == made
    assert second.stdout.count("ds_") == first.stdout.count("ds_") >= 8


def test_scan_and_deidentify_from_the_command_line(ctx: Context, tmp_path: Path) -> None:
    import json

    from tests.conftest import dataset_id

    residents = dataset_id(ctx, "参保人员")
    scanned = run(ctx, "scan", "--dataset", residents, "--full")
    assert scanned.returncode == 0, scanned.stderr
    assert "CN_RESIDENT_ID" in scanned.stdout and "身份证号" in scanned.stdout
    suggested = run(ctx, "deidentify", "--dataset", residents, "--suggest")
    recipe = json.loads(suggested.stdout)
    assert recipe["columns"]["身份证号"]["op"] in ("generalise", "pseudonymise", "drop")
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe, ensure_ascii=False), encoding="utf-8")
    made = run(ctx, "deidentify", "--dataset", residents, "--recipe", str(path))
    assert made.returncode == 0, made.stderr
    assert "版本 2" in made.stdout and "复扫" in made.stdout
    path.write_text("{broken", encoding="utf-8")
    bad = run(ctx, "deidentify", "--dataset", residents, "--recipe", str(path))
    assert bad.returncode != 0 and "JSON" in bad.stderr and "Traceback" not in bad.stderr


def test_tasks_from_the_command_line(ctx: Context) -> None:
    from tests.conftest import actor, dataset_id
    from yaosu.kernel.tasks.models import Task
    from yaosu.privacy import service as privacy

    big = ctx.settings.model_copy(update={"background_rows": 10})
    residents = dataset_id(ctx, "参保人员")
    analyst = actor(ctx, "bureau-analyst")
    with ctx.db.transaction() as session:
        first = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=big,
            dataset_id=residents,
            number=None,
            mode="full",
        )
        second = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=big,
            dataset_id=residents,
            number=None,
            mode="full",
        )
    assert isinstance(first, Task) and isinstance(second, Task)
    listed = run(ctx, "tasks", "list", "--active")
    assert listed.returncode == 0 and first.id in listed.stdout and "排队中" in listed.stdout
    cancelled = run(ctx, "tasks", "cancel", second.id)
    assert cancelled.returncode == 0 and "已取消" in cancelled.stdout
    worked = run(ctx, "tasks", "work", "--once")
    assert worked.returncode == 0 and "处理了 1 个任务" in worked.stdout, worked.stderr
    shown = run(ctx, "tasks", "show", first.id, "--follow")
    assert shown.returncode == 0 and "已完成" in shown.stdout and '"screen"' in shown.stdout
    failed = run(ctx, "tasks", "show", second.id)
    assert failed.returncode == 1 and "已按请求取消" in failed.stdout
    missing = run(ctx, "tasks", "show", "task_nope")
    assert missing.returncode != 0 and "task_nope" in missing.stderr


def test_authorisation_and_rights_from_the_command_line(ctx: Context, tmp_path: Path) -> None:
    import json

    listed = run(ctx, "purposes")
    assert (
        listed.returncode == 0
        and "rural_revitalisation" in listed.stdout
        and "capped" in listed.stdout
    )
    contracts = run(ctx, "contracts", "list")
    assert contracts.returncode == 0, contracts.stderr
    shown = run(ctx, "contracts", "show", "ctr_nope")
    assert shown.returncode != 0 and "ctr_nope" in shown.stderr and "Traceback" not in shown.stderr
    requests = run(ctx, "requests", "list", "--status", "submitted")
    assert requests.returncode == 0, requests.stderr
    rights = run(ctx, "rights", "list")
    assert rights.returncode == 0, rights.stderr
    broken = tmp_path / "cert.json"
    broken.write_text(json.dumps({"document": {}, "signature": "x", "key": "k"}), encoding="utf-8")
    bad = run(ctx, "rights", "verify", str(broken))
    assert bad.returncode == 1 and "无效" in bad.stderr


def test_a_database_error_is_its_code_and_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database the command cannot open (here a directory where the file should be) is a
    database error like a lock or a lost connection: one line in the user's language, exit 2."""
    from typer.testing import CliRunner

    from yaosu.cli import app
    from yaosu.kernel.settings import reset_settings

    (tmp_path / "yaosu.db").mkdir()
    monkeypatch.setenv("YAOSU_HOME", str(tmp_path))
    monkeypatch.setenv("YAOSU_LANG", "zh-CN")
    monkeypatch.setenv("YAOSU_DATABASE_URL", f"sqlite:///{tmp_path / 'yaosu.db'}")
    reset_settings()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
    finally:
        reset_settings()
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "BUSY" in result.output and "系统繁忙" in result.output
    assert "Traceback" not in result.output


def test_a_command_on_an_old_schema_says_so_and_changes_nothing(ctx: Context) -> None:
    """An ordinary command never migrates as a side effect (it once did, on every call): on a
    database behind the code's head it prints one line in the operator's language and exits 1;
    `yaosu db upgrade` then brings it to head."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from yaosu.kernel.db import alembic_config

    def revision() -> str | None:
        with ctx.db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    config = alembic_config(ctx.db.engine)
    head = ScriptDirectory.from_config(config).get_current_head()
    command.downgrade(config, "-1")
    behind = revision()
    assert behind is not None and behind != head
    ctx.db.dispose()

    refused = run(ctx, "datasets", "list")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines() == [
        f"数据库结构版本为 {behind}，本程序需要 {head}：请先运行 `yaosu db upgrade`。"
    ]
    english = run_env(ctx, {"YAOSU_DEFAULT_LOCALE": "en"}, "datasets", "list")
    assert english.returncode == 1
    assert english.stderr.strip() == (
        f"The database schema is at {behind}, and this Yaosu needs {head}: "
        "run `yaosu db upgrade` first."
    )
    assert revision() == behind  # nothing was migrated

    assert run(ctx, "db", "upgrade").returncode == 0
    assert revision() == head
    assert run(ctx, "datasets", "list").returncode == 0


def run_env(ctx: Context, extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **extra,
        "YAOSU_HOME": str(ctx.settings.home_dir),
        "YAOSU_DATABASE_URL": ctx.settings.db_url,
    }
    return subprocess.run([*YAOSU, *args], env=env, capture_output=True, text=True, timeout=120)


def test_errors_are_printed_in_the_users_language_only(ctx: Context) -> None:
    """The CLI printed every error twice, in Chinese and then English; now once, in the
    language YAOSU_LANG (or LANG / LC_ALL) names."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    zh = run(ctx, "tasks", "show", "task_nope")
    assert zh.returncode == 2 and "NOT_FOUND" in zh.stderr
    assert "未找到后台任务 task_nope" in zh.stderr and "was not found" not in zh.stderr
    en = run(ctx, "tasks", "show", "task_nope", lang="en")
    assert en.returncode == 2 and "Background job task_nope was not found" in en.stderr
    assert not cjk.search(en.stderr), en.stderr
