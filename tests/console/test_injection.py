"""Stored HTML injection in the console: nothing a user or a data file can write becomes markup.

The fast checks here run on both backends: the templates mark nothing ``|safe``, htmx runs
hardened, the CSRF token is not on ``<body>``, and a script breaker in a column name, a
frequent value or a query alias stays inside its JSON block. The browser sweep, which plants
payloads everywhere and opens every page as every role, is in ``test_injection_browser.py``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import actor
from tests.console.test_pages import csrf, login
from yaosu.authorization import service as authorization
from yaosu.authorization.schemas import RequestCreate
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.catalog.schemas import DatasetCreate
from yaosu.context import Context
from yaosu.privacy import service as privacy

SRC = Path(__file__).resolve().parents[2] / "src" / "yaosu"

# Templates allowed to use `|safe`, each with the reason. Keep it empty: JSON goes through
# |tojson, text through autoescape.
SAFE_ALLOWED: dict[str, str] = {}

BREAKER = (
    '</script><form hx-post="/pwn/form" hx-trigger="load"><input name="role" value="admin"></form>'
)


def templates() -> list[Path]:
    return sorted(SRC.glob("*/templates/*.html"))


def test_no_template_marks_anything_safe() -> None:
    found = []
    for path in templates():
        text = path.read_text(encoding="utf-8")
        name = f"{path.parent.parent.name}/{path.name}"
        if name in SAFE_ALLOWED:
            continue
        for pattern in (r"\|\s*safe\b", r"autoescape\s+false", r"\|\s*e\s*\(\s*false", r"Markup"):
            if re.search(pattern, text):
                found.append(f"{name}: {pattern}")
    assert templates(), "no templates found"
    assert found == [], f"data marked safe (use |tojson for JSON, autoescape for text): {found}"


def test_no_python_code_builds_markup_for_templates() -> None:
    # Markup() (or markupsafe) around a value would bypass autoescape as surely as |safe.
    found = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if re.search(r"\bMarkup\s*\(|markupsafe", p.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_every_console_template_is_autoescaped() -> None:
    from yaosu.console.render import environment

    env = environment()
    assert env.from_string("{{ x }}").render(x="<b>'\"") == "&lt;b&gt;&#39;&#34;"
    for path in templates():
        assert env.autoescape(path.name) if callable(env.autoescape) else env.autoescape


def test_the_page_frame_hardens_htmx_and_keeps_the_token_off_body(
    app_client: TestClient,
) -> None:
    login(app_client, "bureau-admin")
    page = app_client.get("/home").text
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert config, "the htmx-config meta is missing"
    settings = json.loads(config.group(1))
    assert settings["allowEval"] is False
    assert settings["allowScriptTags"] is False
    assert settings["selfRequestsOnly"] is True
    body = re.search(r"<body[^>]*>", page)
    assert body and "hx-headers" not in body.group(0) and "csrf" not in body.group(0).lower()
    token = csrf(app_client, "/home")
    # The token is only in the app's own forms (hidden fields), never in an attribute that
    # htmx would hand to every element below it.
    assert page.count(token) == page.count(f'name="csrf_token" value="{token}"')
    main = re.search(r"<main[^>]*>", page)
    assert main and "hx-disable" in main.group(0)


def test_pages_with_htmx_keep_data_in_hx_disable_regions(
    app_client: TestClient, ctx: Context
) -> None:
    from tests.conftest import dataset_id

    login(app_client, "bureau-admin")
    catalog_page = app_client.get("/catalog").text
    assert re.search(r'<div class="browse" hx-disable>', catalog_page)
    results = app_client.get("/catalog?q=农产品", headers={"HX-Request": "true"}).text
    assert '<div class="browse" hx-disable>' in results
    privacy_page = app_client.get(f"/datasets/{dataset_id(ctx, '参保人员')}/privacy").text
    button = re.search(r"<button[^>]*hx-post=[^>]*>", privacy_page)
    assert button, "the preview button is gone"
    token = csrf(app_client, "/home")
    # the app's own htmx post carries the token itself
    assert token in button.group(0) and "X-CSRF-Token" in button.group(0)
    assert '<div id="preview" aria-live="polite" hx-disable>' in privacy_page


def _plant_table(ctx: Context, tmp_path: Path, *, openness: str) -> str:
    """A dataset whose column name and frequent value are script breakers, screened and
    confirmed (so it can be previewed and requested)."""
    bureau, analyst, reviewer = (
        actor(ctx, u) for u in ("bureau-admin", "bureau-analyst", "bureau-reviewer")
    )
    with ctx.db.transaction() as session:
        ds = catalog.create_dataset(
            session, bureau, data=DatasetCreate(title="注入测试", theme="测试", openness=openness)
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([BREAKER, "数量"])
    for i in range(400):
        writer.writerow([BREAKER if i % 2 else "普通", i])
    path = tmp_path / "payload.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    versions.run_ingest(ctx, bureau, dataset_id=ds.id, source=path, filename="p.csv")
    with ctx.db.transaction() as session:
        screen = privacy.screen_version(
            session, analyst, store=ctx.store, settings=ctx.settings, dataset_id=ds.id
        )
        privacy.review(session, reviewer, screen_id=screen.id, note="测试")
    return ds.id


def _json_block(page: str, block_id: str) -> object:
    match = re.search(
        rf'<script type="application/json" id="{block_id}">(.*?)</script>', page, re.S
    )
    assert match, f"#{block_id} is missing"
    return json.loads(match.group(1))


def test_a_script_breaker_in_a_column_name_or_value_stays_in_the_chart_data(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    ds = _plant_table(ctx, tmp_path, openness="open")
    login(app_client, "platform-admin")  # the victim
    page = app_client.get(f"/datasets/{ds}").text
    assert "<form hx-post" not in page, "the payload became markup"
    charts = _json_block(page, "profile-data")
    assert isinstance(charts, list)
    column = next(c for c in charts if c["name"] == BREAKER)  # the data survives, intact
    assert {t["value"] for t in column["top"]} == {BREAKER, "普通"}
    assert "&lt;/script&gt;&lt;form" in page  # and the table shows it as text


def test_a_script_breaker_in_a_query_alias_or_group_stays_in_the_answer_data(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    ds = _plant_table(ctx, tmp_path, openness="conditional")
    ai, reviewer = actor(ctx, "ai-analyst"), actor(ctx, "bureau-reviewer")
    with ctx.db.transaction() as session:
        req = authorization.submit_request(
            session,
            ai,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="public_welfare",
                datasets={ds: [BREAKER, "数量"]},
                operations=["aggregate"],
                days=10,
                epsilon=10.0,
                justification="测试注入：分组统计。",
            ),
        )
        done = authorization.review(
            session,
            reviewer,
            settings=ctx.settings,
            request_id=req.id,
            decision="approve",
            reason="同意",
        )
        assert done.contract_id
        authorization.accept(session, ai, contract_id=done.contract_id)
    login(app_client, "ai-analyst")
    token = csrf(app_client, f"/query?contract={done.contract_id}")
    column = BREAKER.replace('"', '""')
    alias = '</script><div hx-get="/pwn/alias" hx-trigger="load">'.replace('"', '""')
    sql = f'SELECT "{column}", COUNT(*) AS "{alias}" FROM {ds} GROUP BY "{column}"'
    answer = app_client.post(
        "/query",
        data={"csrf_token": token, "contract": done.contract_id, "sql": sql, "epsilon": "1"},
    )
    assert answer.status_code == 200, answer.text[-2000:]
    page = answer.text
    assert "<form hx-post" not in page and "<div hx-get" not in page
    chart = _json_block(page, "answer-data")
    assert isinstance(chart, dict)
    assert chart["name"] == '</script><div hx-get="/pwn/alias" hx-trigger="load">'
    assert BREAKER in chart["labels"]
