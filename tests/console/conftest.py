"""The one browser of the console tests: Debian's Chromium driven by Playwright, started once
per session (Playwright's sync API allows one running instance per thread: a second
``sync_playwright()`` while the first lives fails with "using Playwright Sync API inside the
asyncio loop").

Expectations wait as long as a loaded CI machine needs: Playwright's default five seconds made
the PostgreSQL login cases fail when both cores were busy. Waiting longer never lets a wrong
page pass; it only stops a slow right page from failing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

expect.set_options(timeout=30_000)

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()
