"""The privacy console pages: report, review, de-identify, all behind CSRF and decide()."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tests.conftest import dataset_id
from tests.console.test_pages import csrf, login
from yaosu.context import Context


def test_report_review_and_deidentify_in_the_console(app_client: TestClient, ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    page = app_client.get(f"/datasets/{residents}/privacy")
    assert page.status_code == 200 and "筛查报告" in page.text and "CN_RESIDENT_ID" in page.text
    assert "330102" not in page.text.replace("330*", "")  # evidence is masked
    token = csrf(app_client, f"/datasets/{residents}/privacy")
    screened = app_client.post(
        f"/datasets/{residents}/privacy/screen",
        data={"mode": "fast", "csrf_token": token},
        follow_redirects=False,
    )
    assert screened.status_code == 303
    recipe = re.search(
        r'<textarea id="recipe"[^>]*>(.*?)</textarea>',
        app_client.get(f"/datasets/{residents}/privacy").text,
        re.S,
    )
    assert recipe
    import html

    doc = json.loads(html.unescape(recipe.group(1)))
    doc["columns"]["备注"] = {"op": "drop"}
    doc["columns"]["身份证号"] = {"op": "generalise", "to": "region_birth_year"}
    made = app_client.post(
        f"/datasets/{residents}/privacy/deidentify",
        data={
            "recipe": json.dumps(doc, ensure_ascii=False),
            "csrf_token": token,
            "version": "1",
            "confirmed": "yes",
        },
        follow_redirects=True,
    )
    # the result page: each column before and after
    assert made.status_code == 200 and "处理前后" in made.text, made.text[-2000:]
    row = re.search(r"<td>备注</td><td>删除</td>.*?</tr>", made.text, re.S)
    assert row and "已删除" in row.group(0)
    ids = re.search(r"<td>身份证号</td><td>(.*?)</td>(.*?)</tr>", made.text, re.S)
    # IDs generalised to region and birth year: found before, not after
    assert ids and ids.group(1) == "泛化" and ids.group(2).count("CN_RESIDENT_ID") == 1
    bad = app_client.post(
        f"/datasets/{residents}/privacy/deidentify",
        data={"recipe": "{not json", "csrf_token": token, "version": "1", "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "JSON" in bad.text and 'class="error-message"' in bad.text
    # the proposal for the new version awaits a reviewer
    after = app_client.get(f"/datasets/{residents}/privacy").text
    assert "待审核" in after and "去标识化版本" in after


def test_privacy_pages_are_for_the_provider(app_client: TestClient, ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "coop-manager")
    assert app_client.get(f"/datasets/{residents}/privacy").status_code == 403


def test_the_recipe_preview_shows_the_result_and_what_is_left(
    app_client: TestClient, ctx: Context
) -> None:
    from sqlalchemy import func, select

    from yaosu.audit.models import AuditEntry

    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    token = csrf(app_client, f"/datasets/{residents}/privacy")
    recipe = {"columns": {"姓名": {"op": "drop"}, "身份证号": {"op": "mask", "keep_first": 6}}}
    shown = app_client.post(
        f"/datasets/{residents}/privacy/preview",
        data={"recipe": json.dumps(recipe, ensure_ascii=False)},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert shown.status_code == 200 and "<html" not in shown.text  # a fragment
    assert "前 1,000 行" in shown.text
    # the mobile column was left as it is, so personal information is still there
    phone = re.search(r"<td>手机号</td><td>保留</td>.*?</tr>", shown.text, re.S)
    assert phone and "CN_MOBILE" in phone.group(0)
    masked = re.findall(r"<td>(\d{6}\*{12})</td>", shown.text)
    assert len(masked) == 10  # the first rows of the result, resident IDs masked
    bad = app_client.post(
        f"/datasets/{residents}/privacy/preview",
        data={"recipe": json.dumps({"columns": {"无此列": {"op": "drop"}}}, ensure_ascii=False)},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert bad.status_code == 200 and 'role="alert"' in bad.text and "无此列" in bad.text
    with ctx.db.transaction() as session:
        looked = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "privacy.preview")
        )
    assert looked == 1  # the look at raw rows is audited; the refused one read nothing


def test_a_large_scan_shows_its_progress_on_the_page(app_client: TestClient, ctx: Context) -> None:
    ctx.settings = ctx.settings.model_copy(update={"background_rows": 100})
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    token = csrf(app_client, f"/datasets/{residents}/privacy")
    app_client.post(
        f"/datasets/{residents}/privacy/screen", data={"mode": "full", "csrf_token": token}
    )
    page = app_client.get(f"/datasets/{residents}/privacy").text
    panel = re.search(r'<section id="tasks".*?</section>', page, re.S)
    assert panel and "全量扫描" in panel.group(0)
    fragment = app_client.get(f"/datasets/{residents}/privacy/tasks").text
    assert fragment.startswith('\n<section id="tasks"') or fragment.lstrip().startswith(
        '<section id="tasks"'
    )
    # the app's own worker thread runs it; the fragment polls itself until the task ends
    import time

    deadline = time.monotonic() + 60
    while "已完成" not in fragment:
        assert 'hx-trigger="every 2s"' in fragment and time.monotonic() < deadline
        time.sleep(0.2)
        fragment = app_client.get(f"/datasets/{residents}/privacy/tasks").text
    assert "hx-trigger" not in fragment  # finished: it stops polling


def test_confirming_a_personal_screen_says_to_declare_its_privacy_unit(
    app_client: TestClient, ctx: Context
) -> None:
    """Until its privacy unit is declared nothing about a personal dataset is answered, so the
    step after confirming its screen says so and links to the declaration; once declared, the
    step after declaring links on to the data dictionary."""
    from yaosu.privacy import unit

    residents = dataset_id(ctx, "参保人员")
    with ctx.db.transaction() as session:  # as if the demo's reviewer had not declared it
        declared = unit.declared(session, dataset_id=residents)
        assert declared is not None
        session.delete(declared)
    login(app_client, "bureau-reviewer")
    token = csrf(app_client, f"/datasets/{residents}/privacy")
    app_client.post(
        f"/datasets/{residents}/privacy/screen", data={"mode": "fast", "csrf_token": token}
    )
    page = app_client.get(f"/datasets/{residents}/privacy").text
    screen = re.search(r'action="/screens/([^/"]+)/review"', page)
    assert screen, page[-2000:]
    reviewed = app_client.post(
        f"/screens/{screen.group(1)}/review", data={"csrf_token": token}, follow_redirects=True
    )
    assert "筛查结果已确认：该数据集含个人信息。" in reviewed.text
    assert f'href="/datasets/{residents}/privacy-unit"' in reviewed.text
    declared_page = app_client.post(
        f"/datasets/{residents}/privacy-unit",
        data={"kind": "columns", "columns": "身份证号", "csrf_token": token},
        follow_redirects=True,
    )
    assert "隐私单位已声明。" in declared_page.text
    assert f'href="/datasets/{residents}/dictionary"' in declared_page.text
