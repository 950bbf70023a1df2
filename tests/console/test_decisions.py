"""A decision is the reviewer's to make: no form proposes one (issue 13). The request review,
an objection's resolution and the purpose of a new request start on "choose", and a form sent
without a choice is refused, changing nothing. The greeting follows the language's punctuation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.authorization.test_matrix import world
from tests.conftest import dataset_id
from tests.console.test_pages import csrf, login
from yaosu.authorization.models import AccessRequest
from yaosu.context import Context
from yaosu.rights.models import Objection


def _selected(html: str, name: str) -> list[str]:
    """The values of the options selected in the form's ``name`` select."""
    select_ = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_, name
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select_.group(1))


def test_the_review_form_proposes_no_decision(app_client: TestClient, ctx: Context) -> None:
    with ctx.db.transaction() as session:
        pending = session.scalar(
            select(AccessRequest.id).where(AccessRequest.status == "submitted")
        )
    login(app_client, "cac-inspector")
    page = app_client.get(f"/requests/{pending}")
    assert page.status_code == 200
    assert _selected(page.text, "decision") == [""]
    sent = app_client.post(
        f"/requests/{pending}/review",
        data={"csrf_token": csrf(app_client, f"/requests/{pending}"), "reason": "未选择"},
        follow_redirects=True,
    )
    assert "请选择" in sent.text or "choose a decision" in sent.text
    with ctx.db.transaction() as session:
        assert session.get(AccessRequest, pending).status == "submitted"


def test_a_new_request_starts_without_a_purpose(app_client: TestClient, ctx: Context) -> None:
    login(app_client, "ai-analyst")
    page = app_client.get(f"/requests/new?dataset={dataset_id(ctx, '参保人员')}")
    assert page.status_code == 200
    assert _selected(page.text, "purpose") == [""]
    assert "请选择用途" in page.text


def test_an_objection_is_not_dismissed_by_default(app_client: TestClient, ctx: Context) -> None:
    objection = world(ctx)["objection"]
    with ctx.db.transaction() as session:
        registration = session.get(Objection, objection).registration_id
    login(app_client, "platform-admin")
    page = app_client.get(f"/registrations/{registration}")
    assert _selected(page.text, "upheld") == [""]
    sent = app_client.post(
        f"/objections/{objection}/resolve",
        data={
            "csrf_token": csrf(app_client, f"/registrations/{registration}"),
            "resolution": "未选择",
        },
        follow_redirects=True,
    )
    assert "请选择支持或驳回该异议" in sent.text
    with ctx.db.transaction() as session:
        assert session.get(Objection, objection).status == "open"


def test_the_greeting_follows_the_language(app_client: TestClient) -> None:
    login(app_client, "bureau-admin")
    zh = app_client.get("/home").text
    assert re.search(r"<h1>欢迎，[^<,]+</h1>", zh), re.search(r"<h1>.*?</h1>", zh)
    en = app_client.get("/home?lang=en").text
    assert re.search(r"<h1>Welcome, [^<，]+</h1>", en), re.search(r"<h1>.*?</h1>", en)
