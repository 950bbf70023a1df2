"""Shared fixtures. Every test runs on SQLite and on PostgreSQL (when reachable; CI always sets
``YAOSU_TEST_DATABASE_URL``), each time on a fresh copy of the demo world, which is built once
per backend per session and cloned per test (a file copy, or ``CREATE DATABASE ... TEMPLATE``)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts import credentials
from yaosu.accounts import service as accounts
from yaosu.accounts.models import User
from yaosu.api import create_app
from yaosu.context import Context
from yaosu.demo.service import DEMO_PASSWORD, seed
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import Database
from yaosu.kernel.settings import Settings
from yaosu.kernel.storage import ObjectStore

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _pg_admin_url() -> str | None:
    url = os.environ.get("YAOSU_TEST_DATABASE_URL")
    if url:
        return url  # set: it must work, a failure fails the run
    try:
        with psycopg.connect(PG_DEFAULT, connect_timeout=2):
            return PG_DEFAULT
    except psycopg.Error:
        return None


PG_ADMIN = _pg_admin_url()
BACKENDS = ["sqlite", "postgresql"]


def _pg_url(dbname: str) -> str:
    assert PG_ADMIN is not None
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{dbname}"


def _pg_exec(sql: str) -> None:
    assert PG_ADMIN is not None
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _settings(home: Path, url: str) -> Settings:
    return Settings(home=home, database_url=url, env="development")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and PG_ADMIN is None:
        pytest.skip(
            "PostgreSQL is not reachable at 127.0.0.1:5432 and YAOSU_TEST_DATABASE_URL is unset"
        )
    return str(request.param)


@pytest.fixture(scope="session")
def template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The demo world, built once per backend: (home folder, database url or name)."""
    home = tmp_path_factory.mktemp(f"template-{backend}")
    if backend == "sqlite":
        url = f"sqlite:///{home / 'yaosu.db'}"
    else:
        name = f"yaosu_tpl_{secrets.token_hex(4)}"
        _pg_exec(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    settings = _settings(home, url)
    db = Database(settings)
    db.upgrade()
    seed(Context(settings, db, ObjectStore(settings.data_dir)))
    db.dispose()  # SQLite checkpoints the WAL into the main file when the last connection closes
    yield home, url
    if backend == "postgresql":
        _pg_exec(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@contextmanager
def world_copy(backend: str, template: tuple[Path, str], home: Path) -> Iterator[Context]:
    """A private copy of the demo world in ``home`` (a file copy, or ``CREATE DATABASE ...
    TEMPLATE``), dropped afterwards."""
    tpl_home, tpl_url = template
    shutil.copytree(tpl_home, home, ignore=shutil.ignore_patterns("yaosu.db-*"))
    if backend == "sqlite":
        url = f"sqlite:///{home / 'yaosu.db'}"
    else:
        name = f"yaosu_t_{secrets.token_hex(5)}"
        _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{tpl_url.rsplit("/", 1)[1]}"')
        url = _pg_url(name)
    settings = _settings(home, url)
    db = Database(settings)
    yield Context(settings, db, ObjectStore(settings.data_dir))
    db.dispose()
    if backend == "postgresql":
        _pg_exec(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def ctx(backend: str, template: tuple[Path, str], tmp_path: Path) -> Iterator[Context]:
    """A fresh, private copy of the demo world."""
    with world_copy(backend, template, tmp_path / "home") as copy:
        yield copy


@pytest.fixture
def empty_ctx(backend: str, tmp_path: Path) -> Iterator[Context]:
    """A migrated database with nothing in it."""
    home = tmp_path / "empty"
    if backend == "sqlite":
        url = f"sqlite:///{home / 'yaosu.db'}"
    else:
        name = f"yaosu_e_{secrets.token_hex(5)}"
        _pg_exec(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    settings = _settings(home, url)
    db = Database(settings)
    yield Context(settings, db, ObjectStore(settings.data_dir))
    db.dispose()
    if backend == "postgresql":
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_client(ctx: Context) -> Iterator[TestClient]:
    app = create_app(ctx.settings, migrate=False)
    app.state.yaosu = ctx
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@contextmanager
def serving(ctx: Context) -> Iterator[str]:
    """The app on a real socket (uvicorn in a thread, lifespan and job worker included)."""
    app = create_app(ctx.settings, migrate=False)
    app.state.yaosu = ctx
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(ctx: Context) -> Iterator[str]:
    """The app on a real socket, for the Python client and the witness tool."""
    with serving(ctx) as url:
        yield url


def actor(ctx: Context, username: str) -> Actor:
    with ctx.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return accounts.actor_for(session, user=user)


def token_for(
    ctx: Context, username: str, scopes: tuple[str, ...] = ("read", "write", "admin")
) -> str:
    with ctx.db.transaction() as session:
        _, secret = credentials.create_token(
            session, actor(ctx, username), name="test", scopes=scopes
        )
    return secret


def auth(
    ctx: Context, username: str, scopes: tuple[str, ...] = ("read", "write", "admin")
) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(ctx, username, scopes)}"}


def dataset_id(ctx: Context, title_part: str) -> str:
    from yaosu.catalog.models import Dataset

    with ctx.db.transaction() as session:
        ds = session.scalar(select(Dataset).where(Dataset.title.contains(title_part)))
        assert ds is not None, title_part
        return ds.id


__all__ = ["DEMO_PASSWORD", "actor", "auth", "dataset_id", "token_for"]


def demo_contract_id(session: Session) -> str:
    """The demo's governed-query contract: the cooperative's over 参保人员 (the name its SQL
    uses). The demo's market orders have contracts of their own, over the farm sales."""
    from yaosu.authorization.models import Contract

    for contract in session.scalars(select(Contract).order_by(Contract.created_at, Contract.id)):
        if "参保人员" in (contract.aliases or {}):
            return str(contract.id)
    raise AssertionError("the demo world has no contract over 参保人员")


# Tests of what the console renders run on SQLite only: a page reads the metadata database
# through the same services on both backends, which the domain tests check on both, and
# these tests (a browser, every page for every role) are a third of the suite's time. The
# audit pages stay on both: their search filters are SQL.
ONE_BACKEND = (
    "tests/console/",
    "tests/market/test_pages.py",
    "tests/market/test_share_pages.py",
    "tests/inbox/test_pages.py",
    "tests/compute/test_pages.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        path = Path(str(item.fspath)).as_posix()
        on_pg = spec is not None and spec.params.get("backend") == "postgresql"
        if on_pg and any(f"/{part}" in path or path.startswith(part) for part in ONE_BACKEND):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --- the one browser ------------------------------------------------------------------------
# Debian's Chromium driven by Playwright, started once per session for every package's browser
# tests (Playwright's sync API allows one running instance per thread: a second
# ``sync_playwright()`` while the first lives fails with "using Playwright Sync API inside the
# asyncio loop"). Expectations wait as long as a loaded CI machine needs: Playwright's default
# five seconds made the PostgreSQL login cases fail when both cores were busy. Waiting longer
# never lets a wrong page pass; it only stops a slow right page from failing.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
