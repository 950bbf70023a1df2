"""Uploads that stop or die: a body that stops arriving is answered 408 and frees its worker
and temp file; the temp file of a killed writer is swept at the next start-up, and that of a
live one (another process, or a request still streaming) never is."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.catalog.helpers import new_dataset
from tests.conftest import token_for
from yaosu.api import create_app
from yaosu.catalog.models import Dataset
from yaosu.context import Context
from yaosu.kernel.storage import ObjectStore


def connect(server: str) -> socket.socket:
    url = urlsplit(server)
    sock = socket.create_connection((url.hostname, url.port), timeout=20)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes, bool]:
    """(status, headers, body, closed): reads until the server closes the connection."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return (*_parse(data), False)
        if not chunk:
            return (*_parse(data), True)
        data += chunk


def _parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def uploads_in(store: ObjectStore) -> list[Path]:
    return [p for p in store.tmp.iterdir() if p.suffix == ".upload"]


def wait_until(check: object, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def partial_request(
    server: str, path: str, token: str, *, declared: int, sent: bytes
) -> socket.socket:
    sock = connect(server)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {declared}\r\n"
        "Accept-Language: en\r\n\r\n"
    )
    sock.sendall(head.encode() + sent)
    return sock


def test_an_upload_that_stops_mid_body_is_answered_408_and_its_temp_file_goes(
    ctx: Context, server: str
) -> None:
    ctx.settings.body_read_seconds = 1
    token = token_for(ctx, "bureau-admin")
    ds = new_dataset(ctx)
    sock = partial_request(
        server,
        f"/api/v1/datasets/{ds}/versions?filename=a.csv",
        token,
        declared=1_000_000,
        sent=b"a,b\n1,2\n",
    )
    with sock:
        assert wait_until(lambda: uploads_in(ctx.store)), "the upload never started"
        # A sweep by another process meanwhile must not take a file being written.
        assert ctx.store.sweep_tmp() == 0 and uploads_in(ctx.store)
        status, headers, body, closed = read_response(sock)
    assert status == 408
    assert headers.get("connection") == "close" and closed
    error = json.loads(body)["error"]
    assert error["code"] == "BODY_READ_TIMEOUT" and error["detail"] == {"seconds": 1}
    assert "1 s" in error["message"]
    assert wait_until(lambda: not uploads_in(ctx.store)), "the temp file was left behind"
    # The worker is free: the server still answers.
    with connect(server) as again:
        again.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        assert read_response(again)[0] == 200


def test_a_json_body_that_stops_is_408_too(ctx: Context, server: str) -> None:
    ctx.settings.body_read_seconds = 1
    token = token_for(ctx, "bureau-admin")
    sock = connect(server)
    with sock:
        sock.sendall(
            (
                f"POST /api/v1/datasets HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}"
                "\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
                '{"title": "半截'
            ).encode()
        )
        status, _, body, closed = read_response(sock)
    assert status == 408 and closed
    assert json.loads(body)["error"]["code"] == "BODY_READ_TIMEOUT"


def test_a_multipart_upload_that_stops_is_408_and_leaves_nothing(ctx: Context, server: str) -> None:
    ctx.settings.body_read_seconds = 1
    token = token_for(ctx, "bureau-admin")
    ds = new_dataset(ctx)
    part = (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\na,b\n1,2\n"
    )
    sock = connect(server)
    with sock:
        sock.sendall(
            (
                f"POST /api/v1/datasets/{ds}/versions HTTP/1.1\r\nHost: test\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: multipart/form-data; boundary=b0undary\r\n"
                "Content-Length: 100000\r\n\r\n"
            ).encode()
            + part
        )
        status, _, body, closed = read_response(sock)
    assert status == 408 and closed
    assert json.loads(body)["error"]["code"] == "BODY_READ_TIMEOUT"
    assert wait_until(lambda: not uploads_in(ctx.store))
    with ctx.db.transaction() as session:
        found = session.get(Dataset, ds)
        assert found is not None and found.latest_version == 0


def test_a_slow_but_steady_upload_is_not_cut_off(ctx: Context, server: str) -> None:
    """The limit is on the wait for the next piece, not on the whole body."""
    ctx.settings.body_read_seconds = 1.5
    token = token_for(ctx, "bureau-admin")
    ds = new_dataset(ctx)
    rows = [f"{i},{i * 2}\n".encode() for i in range(8)]
    body = b"a,b\n" + b"".join(rows)
    sock = partial_request(
        server,
        f"/api/v1/datasets/{ds}/versions?filename=a.csv",
        token,
        declared=len(body),
        sent=b"a,b\n",
    )
    with sock:
        for row in rows:
            time.sleep(0.3)  # 2.4 s in all, longer than the limit
            sock.sendall(row)
        sock.settimeout(30)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status, _, answer = _parse(data)
    assert status == 201, answer
    assert json.loads(answer)["row_count"] == 8


WRITER = r"""
import sys, time
from pathlib import Path
from yaosu.kernel.storage import ObjectStore
store = ObjectStore(Path(sys.argv[1]))
with store.locked_temp(".upload") as temp:
    with temp.open("wb") as fh:
        fh.write(b"a,b\n1,2\n")
        fh.flush()
        print(temp, flush=True)
        time.sleep(600)
"""


@pytest.fixture
def writers(ctx: Context) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def start_writer(
    ctx: Context, writers: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ctx.store.root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    writers.append(proc)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_uploads_temp_file_is_swept_at_start_up_and_a_live_one_survives(
    ctx: Context, writers: list[subprocess.Popen[str]]
) -> None:
    killed, killed_file = start_writer(ctx, writers)
    live, live_file = start_writer(ctx, writers)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert killed_file.exists() and live_file.exists()  # the kill left its file, fresh

    create_app(ctx.settings, migrate=False)  # a restart sweeps the store's tmp

    assert not killed_file.exists(), "the killed upload's temp file survived a restart"
    assert live_file.exists(), "a live upload in another process lost its temp file"
    assert live.poll() is None
    # Files of writers that take no lock are still swept only when old.
    legacy = ctx.store.temp_path(".parquet")
    ObjectStore(ctx.store.root).sweep_tmp()
    assert legacy.exists()
    old = time.time() - 2 * 24 * 3600
    os.utime(legacy, (old, old))
    ObjectStore(ctx.store.root).sweep_tmp()
    assert not legacy.exists()
