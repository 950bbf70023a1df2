"""The recipe editor, the confirmation before a de-identification runs, and the per-column
review, as pages: what the server renders and accepts."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import dataset_id
from tests.console.test_injection import BREAKER, _plant_table
from tests.console.test_pages import csrf, login
from yaosu.audit.models import AuditEntry
from yaosu.catalog.models import DatasetVersion
from yaosu.context import Context
from yaosu.privacy.models import Screen


def _versions(ctx: Context, dataset: str) -> int:
    with ctx.db.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(DatasetVersion)
                .where(DatasetVersion.dataset_id == dataset)
            )
            or 0
        )


def _recipe_on(page: str) -> dict:  # type: ignore[type-arg]
    found = re.search(r'<textarea id="recipe"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the JSON view is gone"
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


def _row(page: str, column: str) -> str:
    found = re.search(
        rf'<tr class="recipe-column" data-column="{re.escape(column)}".*?</tr>', page, re.S
    )
    assert found, column
    return found.group(0)


def test_the_editor_is_a_form_per_column_holding_the_suggested_recipe(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    page = app_client.get(f"/datasets/{residents}/privacy").text
    assert '<script src="/static/recipe.js" defer></script>' in page
    assert "<script>" not in page and "onclick" not in page  # strict CSP: no inline script
    doc = _recipe_on(page)
    # the remarks: the spans the screen found, not a pseudonym of the whole text
    assert doc["columns"]["备注"] == {"op": "mask_spans", "entities": ["CN_PERSON_NAME"]}
    assert doc["k_anonymity"] == {"quasi_identifiers": ["性别", "出生日期", "所属乡镇"], "k": 5}
    remark = _row(page, "备注")
    assert '<option value="mask_spans" selected>遮盖文本中发现的内容</option>' in remark
    assert 'value="CN_PERSON_NAME" checked' in remark and "在文本中发现" in remark
    birth = _row(page, "出生日期")
    assert '<option value="generalise" selected>' in birth
    assert '<option value="year_band" selected>年份区间</option>' in birth
    phone = _row(page, "手机号")
    assert (
        '<option value="mask" selected>' in phone and 'data-param="keep_first" value="3"' in phone
    )
    assert '<option value="round"' not in _row(page, "姓名")  # text is not rounded
    assert '<option value="round"' in _row(page, "缴费档次(元)")
    # every column has a row, k-anonymity is proposed with its quasi-identifiers named
    assert page.count('<tr class="recipe-column"') == 10
    assert "建议启用，因为筛查发现了准标识符：" in page and "性别、出生日期、所属乡镇" in page
    assert re.search(r'<input type="checkbox" data-k="on" checked>', page)
    for name in ("性别", "出生日期", "所属乡镇"):
        assert f'data-quasi value="{name}" checked' in page
    assert 'data-quasi value="姓名">' in page
    # nothing in the editor submits: the only run is the confirmation's form
    editor = page[page.index('id="recipe-editor"') : page.index('id="confirm"')]
    assert "<form" not in editor and 'type="submit"' not in editor


def test_nothing_runs_before_it_is_confirmed(app_client: TestClient, ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    token = csrf(app_client, f"/datasets/{residents}/privacy")
    recipe = json.dumps({"columns": {"姓名": {"op": "drop"}}}, ensure_ascii=False)
    unconfirmed = app_client.post(
        f"/datasets/{residents}/privacy/deidentify",
        data={"recipe": recipe, "csrf_token": token},
        follow_redirects=True,
    )
    assert 'class="error-message"' in unconfirmed.text and "请先检查并确认方案" in unconfirmed.text
    assert _versions(ctx, residents) == 1
    shown = app_client.post(
        f"/datasets/{residents}/privacy/deidentify/confirm",
        data={"recipe": recipe},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert shown.status_code == 200 and "<html" not in shown.text
    text = shown.text
    assert "确认去标识化" in text and "本数据集的第 2 版" in text
    assert "版本 1 · 2,000 行" in text and "立即执行，约" in text
    assert re.search(r"<td>姓名</td><td>删除</td>", text)
    assert re.search(r"<td>手机号</td><td>保留</td>", text)
    form = re.search(r'<form method="post" action="([^"]+)".*?</form>', text, re.S)
    assert form and form.group(1) == f"/datasets/{residents}/privacy/deidentify"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(0)))
    assert fields["confirmed"] == "yes" and fields["version"] == "1"
    assert json.loads(html.unescape(fields["recipe"])) == json.loads(recipe)
    assert "autofocus" not in form.group(0)  # Enter lands on no button by itself
    assert _versions(ctx, residents) == 1  # confirming showed, ran nothing
    made = app_client.post(
        f"/datasets/{residents}/privacy/deidentify",
        data={k: html.unescape(v) for k, v in fields.items()},
        follow_redirects=True,
    )
    assert made.status_code == 200 and "处理前后" in made.text
    assert _versions(ctx, residents) == 2
    bad = app_client.post(
        f"/datasets/{residents}/privacy/deidentify/confirm",
        data={"recipe": json.dumps({"columns": {"备注": {"op": "mask_spans"}}})},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert 'role="alert"' in bad.text and "entities" in bad.text and "<form" not in bad.text


def test_a_large_version_is_confirmed_with_its_background_run_and_estimate(
    app_client: TestClient, ctx: Context
) -> None:
    ctx.settings = ctx.settings.model_copy(update={"background_rows": 100})
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    token = csrf(app_client, f"/datasets/{residents}/privacy")
    shown = app_client.post(
        f"/datasets/{residents}/privacy/deidentify/confirm",
        data={"recipe": '{"columns": {}}'},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    ).text
    assert re.search(r'<dd id="confirm-time">后台任务，约 1 分钟；本页显示其进度</dd>', shown)


def test_the_preview_updates_each_columns_line_in_the_editor(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    token = csrf(app_client, f"/datasets/{residents}/privacy")
    recipe = {
        "columns": {
            "姓名": {"op": "drop"},
            "备注": {"op": "mask_spans", "entities": ["CN_PERSON_NAME"]},
        }
    }
    shown = app_client.post(
        f"/datasets/{residents}/privacy/preview",
        data={"recipe": json.dumps(recipe, ensure_ascii=False)},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    ).text
    # one line per column, swapped out of band at the response's top level, data inert
    lines = re.findall(
        r'^<div id="after-(\d+)" class="after" hx-swap-oob="true" hx-disable>', shown, re.M
    )
    assert lines == [str(i) for i in range(10)]
    name = re.search(r'<div id="after-0".*?</div>', shown, re.S)
    assert name and "已删除" in name.group(0)
    remark = re.search(r'<div id="after-9".*?</div>', shown, re.S)
    assert remark and "联系人**" in remark.group(0) and "行被改变" in remark.group(0)
    kept = re.search(r'<div id="after-6".*?</div>', shown, re.S)  # 参保状态
    assert kept and "原样保留" in kept.group(0)


def test_a_reviewer_corrects_one_column_on_the_page(app_client: TestClient, ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    token = csrf(app_client, f"/datasets/{residents}/privacy")
    app_client.post(
        f"/datasets/{residents}/privacy/screen", data={"mode": "fast", "csrf_token": token}
    )
    page = app_client.get(f"/datasets/{residents}/privacy").text
    form = re.search(r'<form method="post" action="/screens/(\w+)/review".*?</form>', page, re.S)
    assert form, "no review form for the new screen"
    columns = re.findall(r'<input type="hidden" name="column" value="([^"]+)">', form.group(0))
    assert columns == ["姓名", "身份证号", "手机号", "出生日期", "备注"]
    assert 'aria-label="备注的判定"' in form.group(0)
    assert '<option value="specific_identity">敏感：特定身份</option>' in form.group(0)
    choices = ["" if c != "备注" else "specific_identity" for c in columns]
    target = f"/screens/{form.group(1)}/review"
    without_reason = app_client.post(
        target,
        data={"csrf_token": token, "column": columns, "category": choices},
        follow_redirects=False,
    )
    assert without_reason.status_code == 303 and "error=" in without_reason.headers["location"]
    done = app_client.post(
        target,
        data={"csrf_token": token, "column": columns, "category": choices, "note": "低保户"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "error=" not in done.headers["location"]
    with ctx.db.transaction() as session:
        screen = session.get(Screen, form.group(1))
        assert screen is not None and screen.status == "confirmed"
        assert "specific_identity" in screen.sensitive
        entries = list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "privacy.review", AuditEntry.object_id == residents
                )
            )
        )
    latest = entries[-1].detail
    assert latest["corrected"] == ["columns"] and [c["column"] for c in latest["columns"]] == [
        "备注"
    ]
    mismatched = app_client.post(
        target,
        data={"csrf_token": token, "column": columns, "category": ["no"], "note": "x"},
        follow_redirects=False,
    )
    assert "error=" in mismatched.headers["location"]


def test_planted_column_names_stay_text_in_the_editor_preview_and_confirmation(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    planted = _plant_table(ctx, tmp_path, openness="conditional")
    login(app_client, "bureau-admin")
    page = app_client.get(f"/datasets/{planted}/privacy").text
    assert BREAKER not in page and "&lt;/script&gt;&lt;form hx-post=" in page
    token = csrf(app_client, f"/datasets/{planted}/privacy")
    recipe = json.dumps({"columns": {BREAKER: {"op": "pseudonymise"}}}, ensure_ascii=False)
    for path in ("preview", "deidentify/confirm"):
        shown = app_client.post(
            f"/datasets/{planted}/privacy/{path}",
            data={"recipe": recipe},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        ).text
        assert 'role="alert"' not in shown, shown[:500]
        assert BREAKER not in shown and "hx-post=/pwn" not in shown
        assert "&lt;/script&gt;&lt;form hx-post=" in shown
