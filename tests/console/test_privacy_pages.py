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
    made = app_client.post(
        f"/datasets/{residents}/privacy/deidentify",
        data={"recipe": json.dumps(doc, ensure_ascii=False), "csrf_token": token},
        follow_redirects=True,
    )
    assert made.status_code == 200 and "去标识化版本" in made.text
    bad = app_client.post(
        f"/datasets/{residents}/privacy/deidentify",
        data={"recipe": "{not json", "csrf_token": token},
        follow_redirects=True,
    )
    assert "JSON" in bad.text and 'class="error-message"' in bad.text
    # the proposal for the new version awaits a reviewer; an analyst cannot confirm it
    assert "待审核" in made.text


def test_privacy_pages_are_for_the_provider(app_client: TestClient, ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "coop-manager")
    assert app_client.get(f"/datasets/{residents}/privacy").status_code == 403
