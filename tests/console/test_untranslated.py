"""No English in the Chinese console: every page, as every demo role and anonymously, in
zh-CN, shows Chinese words only, but for codes marked as such and a small allow-list of units,
standards and formats.

Visible text is what a reader sees: <script> and <style>, attribute values, and whatever is
marked ``translate="no"`` or set in <code>, <kbd> or <samp> (ids, codes, SQL, file names) are
left out. The demo world's own data is Chinese, so it passes as it is.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.authorization.test_matrix import (
    ANON,
    EVERYONE,
    USERS,
    _no_worker,  # noqa: F401  (the matrix's job stays queued here too)
    console_cases,
    console_routes,
    world,
)
from tests.conftest import DEMO_PASSWORD
from yaosu.context import Context

# Units, standards, formats and names that read the same in a Chinese text.
ALLOWED = {
    "API",
    "AVG",  # SQL's aggregate functions, as the analyst writes them
    "SUM",
    "Excel",
    "CSV",
    "DCAT",
    "JSON",
    "ODRL",
    "PDF",
    "SQL",
    "TSV",
    "UTC",
    "XLS",
    "XLSX",
    "NDJSON",
    "GBK",
    "UTF",
    "Python",
    "Parquet",
    "Yaosu",
    "HTTP",
    "SHA",
    "GB/T",
    "USCC",
    "KiB",
    "MiB",
    "GiB",
    "TiB",
    "Shapley",  # the Shapley value and KNN-Shapley, as the literature names them
    "KNN",
    "OpenLineage",  # a standard's name
}

# Glued "中文 / English" service messages: reshape/messages turns them into Messages. The
# lead empties this list when that branch is merged; nothing else belongs here.
PENDING_FROM_MESSAGES: list[str] = []

TOKEN = re.compile(r"[\w\-./:@\[\]]+", re.ASCII)
# A payment reference (YSP- and 8 random characters): a code, even when its draw has no digit
# (YSP-XECSEMGW failed the sweep once as an "English word").
PAYMENT_CODE = re.compile(r"YSP-[0-9A-Z]{8}")
SKIP = {"script", "style", "code", "kbd", "samp", "textarea"}
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class VisibleText(HTMLParser):
    """The text a reader sees, as (text, element path) pieces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden from this check)
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        hidden = (
            tag in SKIP
            or dict(attrs).get("translate") == "no"
            or bool(self.stack and self.stack[-1][1])
        )
        self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed <li>, <p>…
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1][1]) and data.strip():
            self.pieces.append(data.strip())


def english_words(html: str) -> list[tuple[str, str]]:
    """(word, the text it stands in) for every English word of three letters or more.

    A token with a digit in it (a ULID, a hash, a version, ``UTF-8``'s neighbours) is an
    identifier, not a word; ``identity_document`` or ``session.login`` are words."""
    parser = VisibleText()
    parser.feed(html)
    found = []
    for piece in parser.pieces:
        if any(pending in piece for pending in PENDING_FROM_MESSAGES):
            continue
        for token in TOKEN.findall(piece):
            if token in ALLOWED or any(c.isdigit() for c in token) or PAYMENT_CODE.fullmatch(token):
                continue
            if any(len(w) >= 3 and w not in ALLOWED for w in re.findall("[A-Za-z]+", token)):
                found.append((token, piece[:120]))
    return found


def test_the_parser_sees_only_what_a_reader_reads() -> None:
    html = (
        '<p title="Title">数据 <code>ds_1</code> <span translate="no">bureau-admin</span>'
        "<script>var x</script> Open <b>CSV</b> v2 ok<br>kept</p>"
    )
    assert [w for w, _ in english_words(html)] == ["Open", "kept"]
    assert english_words("<p>ctr_01m8t3 · UTF-8 · session.login</p>")[0][0] == "session.login"


def _pages(app: FastAPI, w: dict[str, Any]) -> list[tuple[str, str]]:
    """(route, path) for every console GET route, its parameters filled from the demo world."""
    paths = {p.route: p.path for p in console_cases(w) if p.method == "GET"}
    routes = sorted(r for m, r in console_routes(app) if m == "GET")
    missing = [r for r in routes if r not in paths]
    assert missing == [], f"console GET routes with no path to render: {missing}"
    downloads = {  # files, not pages: a certificate's JSON and its PDF
        "/market/certificates/{number}/{check}/file",
        "/market/certificates/{number}/{check}/pdf",
    }
    return [(r, paths[r]) for r in routes if r != "/lang/{code}" and r not in downloads]


def _errors(app: FastAPI) -> list[tuple[str, str, str]]:
    """The error pages: no such page, a method the page does not take, an unexpected failure."""

    @app.get("/__boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    return [
        ("GET", "/no-such-page", "404"),
        ("DELETE", "/catalog", "405"),
        ("GET", "/__boom", "500"),
    ]


def test_every_console_page_reads_in_chinese(app_client: TestClient, ctx: Context) -> None:
    from yaosu.accounts import credentials
    from yaosu.web.deps import SESSION_COOKIE

    w = world(ctx) | {"token": "tok_unused"}  # (tokens are listed, and named, on /tokens)
    sessions = {}
    for role in USERS:
        with ctx.db.transaction() as session:
            _console, secret, _ = credentials.login(session, username=role, password=DEMO_PASSWORD)
            sessions[role] = secret
    pages = [("GET", path, route) for route, path in _pages(app_client.app, w)]
    pages += _errors(app_client.app)  # type: ignore[arg-type]
    untranslated: dict[str, dict[str, str]] = {}  # word: {route: "role: the text"}
    for method, path, route in pages:
        for role in sorted(EVERYONE):
            app_client.cookies.clear()
            if role != ANON:
                app_client.cookies.set(SESSION_COOKIE, sessions[role])
            got = app_client.request(
                method, path, headers={"Accept-Language": "zh-CN"}, follow_redirects=True
            )
            if "text/html" not in got.headers.get("content-type", ""):
                seen = f"{role}: {got.status_code} {got.headers.get('content-type')}"
                untranslated.setdefault("(not an HTML page)", {}).setdefault(route, seen)
                continue
            for word, piece in english_words(got.text):
                untranslated.setdefault(word, {}).setdefault(route, f"{role}: {piece!r}")
    report = "\n".join(
        f"{word!r} on {sorted(where)}, e.g. {next(iter(where.values()))}"
        for word, where in sorted(untranslated.items())
    )
    assert untranslated == {}, f"{len(untranslated)} untranslated words:\n{report}"
