"""The demo's banner says where the console really is: YAOSU_HOST and YAOSU_PORT, not 8000."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from yaosu.context import Context
from yaosu.demo.service import console_url


def test_the_banner_names_the_configured_port(ctx: Context) -> None:
    env = {
        **os.environ,
        "YAOSU_HOME": str(ctx.settings.home_dir),
        "YAOSU_DATABASE_URL": ctx.settings.db_url,
        "YAOSU_PORT": "8123",
        "COLUMNS": "200",
    }
    out = subprocess.run(
        [sys.executable, "-m", "yaosu", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "http://127.0.0.1:8123/docs" in out.stdout
    assert ":8000" not in out.stdout


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 9001, "http://127.0.0.1:9001"),
        ("::", 9002, "http://127.0.0.1:9002"),
        ("::1", 9003, "http://[::1]:9003"),
        ("yaosu.example", 443, "http://yaosu.example:443"),
    ],
)
def test_console_url(host: str, port: int, url: str) -> None:
    assert console_url(host, port) == url
