"""Console pages over HTTP: login, CSRF, escaping, CSP, visibility, language, tokens."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_PASSWORD, auth, dataset_id
from yaosu.context import Context


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> None:
    page = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "login_csrf": token.group(1),
            "next": "/home",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def csrf(client: TestClient, path: str = "/tokens") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_login_sets_a_safe_session_and_lands_on_home(app_client: TestClient) -> None:
    login(app_client, "bureau-admin")
    home = app_client.get("/home")
    assert (
        home.status_code == 200
        and "市数据局管理员" in home.text
        and "2024年各乡镇农产品销售数据" in home.text
    )


def test_wrong_password_and_missing_login_token(app_client: TestClient) -> None:
    page = app_client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    bad = app_client.post(
        "/login", data={"username": "bureau-admin", "password": "nope", "login_csrf": token}
    )
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    forged = app_client.post(
        "/login", data={"username": "bureau-admin", "password": DEMO_PASSWORD, "login_csrf": "x"}
    )
    assert forged.status_code == 403 and "CSRF" in forged.text


def test_forms_need_the_csrf_token(app_client: TestClient) -> None:
    login(app_client, "coop-manager")
    refused = app_client.post("/tokens", data={"name": "x", "scopes": "read"})
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    made = app_client.post(
        "/tokens",
        data={"name": "脚本", "scopes": ["read", "write"], "csrf_token": csrf(app_client)},
    )
    assert made.status_code == 200
    secret = re.search(r'id="new-token">(ys_[^<]+)<', made.text)
    assert secret
    assert secret.group(1) not in app_client.get("/tokens").text  # shown once
    assert (
        app_client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}
        ).status_code
        == 200
    )


def test_titles_are_escaped_and_pages_carry_a_csp(app_client: TestClient, ctx: Context) -> None:
    r = app_client.post(
        "/api/v1/datasets",
        json={"title": "<script>alert(1)</script>", "theme": "<b>测试</b>", "openness": "open"},
        headers=auth(ctx, "bureau-admin"),
    )
    page = app_client.get(f"/datasets/{r.json()['id']}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp
        and "frame-ancestors 'none'" in csp
    )
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page.text
    )  # no inline code


def test_a_foreign_closed_dataset_is_not_reachable_by_url(
    app_client: TestClient, ctx: Context
) -> None:
    power = dataset_id(ctx, "用电量")
    login(app_client, "ai-analyst")
    for path in (f"/datasets/{power}", f"/datasets/{power}/upload"):
        r = app_client.get(path)
        assert r.status_code == 404 and "用电量" not in r.text
    fragment = app_client.get("/catalog?q=用电量", headers={"HX-Request": "true"})
    assert (
        fragment.status_code == 200
        and "用电量" not in fragment.text
        and "<html" not in fragment.text
    )


def test_upload_page_is_for_the_owner_only(app_client: TestClient, ctx: Context) -> None:
    farm = dataset_id(ctx, "农产品")
    login(app_client, "coop-manager")
    r = app_client.get(f"/datasets/{farm}/upload")
    assert r.status_code == 403 and "只能修改本机构的数据集" in r.text


def test_conditional_data_has_no_preview_for_outsiders(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "coop-manager")
    page = app_client.get(f"/datasets/{residents}")
    assert page.status_code == 200 and 'class="preview"' not in page.text and "申请" in page.text
    farm = app_client.get(f"/datasets/{dataset_id(ctx, '农产品')}")
    assert 'class="preview"' in farm.text and "镇" in farm.text


def test_language_switch_is_remembered_and_never_redirects_away(app_client: TestClient) -> None:
    r = app_client.get("/lang/en?next=/catalog", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/catalog"
    assert "yaosu_lang=en" in r.headers["set-cookie"]
    assert "Data catalog" in app_client.get("/catalog").text
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        assert (
            app_client.get(f"/lang/zh-CN?next={evil}", follow_redirects=False).headers["location"]
            == "/home"
        )
    assert "数据目录" in app_client.get("/catalog").text


def test_money_numbers_and_dates_follow_the_locale() -> None:
    import datetime as dt

    from yaosu.console import i18n

    assert i18n.format_money(1234.5, "zh-CN") == "1,234.50 元"
    assert i18n.format_money(1234.5, "en") == "¥1,234.50"
    assert i18n.format_number(1234567, "zh-CN") == "1,234,567"
    when = dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.UTC)
    assert "2026" in i18n.format_datetime(when, "zh-CN") and "12:00" in i18n.format_datetime(
        when, "zh-CN"
    )
    assert "Nov" in i18n.format_datetime(when, "en")


def test_every_role_has_a_home_page(app_client: TestClient) -> None:
    expected = {
        "bureau-analyst": "我的数据集",
        "ai-analyst": "我可使用的数据",
        "coop-manager": "我可使用的数据",
        "cac-inspector": "最近动态",
        "platform-admin": "平台运行状态",
    }
    for user, marker in expected.items():
        app_client.cookies.clear()
        login(app_client, user)
        page = app_client.get("/home")
        assert page.status_code == 200 and marker in page.text, user
    assert "完好" in page.text  # the platform sees the log's integrity


def test_anonymous_pages_redirect_to_login(app_client: TestClient) -> None:
    for path in ("/home", "/tokens", "/org", "/audit", "/datasets/new"):
        r = app_client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert app_client.get("/catalog").status_code == 200


def test_static_assets_are_served_locally(app_client: TestClient) -> None:
    for asset in (
        "/static/vendor/echarts.min.js",
        "/static/vendor/htmx.min.js",
        "/static/app.js",
        "/static/app.css",
    ):
        assert app_client.get(asset).status_code == 200, asset
    assert app_client.get("/static/../../pyproject.toml").status_code == 404


def test_the_audit_search_runs_with_its_fields_left_blank(app_client: TestClient) -> None:
    """A browser sends every field of the search form, blank ones as ``since=``: that is "not
    given", not a date that fails to parse (it was a 422 in English on the regulator's first
    search). Blank fields are dropped for console pages only; the API still refuses them."""
    login(app_client, "cac-inspector")
    blank = app_client.get("/audit?actor_id=&object_id=&action=&since=&until=")
    assert blank.status_code == 200, blank.text[:300]
    assert "No entry matches" not in blank.text and "没有符合" not in blank.text
    later = app_client.get("/audit?actor_id=&since=2999-01-01T00:00&until=")
    assert later.status_code == 200
    assert 'value="2999-01-01T00:00"' in later.text  # the form keeps what was asked
    assert "<tbody>" not in later.text  # nothing happened after 2999
    api = app_client.get("/api/v1/audit?since=")
    assert api.status_code in (401, 422)


def test_the_audit_pager_keeps_the_time_window(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yaosu.audit import pages

    monkeypatch.setattr(pages, "PAGE", 10)  # the demo log fills a few pages of ten
    login(app_client, "cac-inspector")
    page = app_client.get("/audit?since=2000-01-01T00:00")
    assert page.status_code == 200
    pager = re.findall(r'href="(/audit\?[^"]*page=2)"', page.text)
    assert pager
    assert all("since=2000-01-01T00%3A00" in link for link in pager)


def test_the_console_has_an_icon(app_client: TestClient) -> None:
    """Every page names its icon, and a browser's own /favicon.ico request finds it too."""
    page = app_client.get("/catalog")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
    icon = app_client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")


def test_an_active_catalog_filter_can_be_removed(app_client: TestClient) -> None:
    page = app_client.get("/catalog?q=&openness=open&theme=农业农村").text
    assert "清除全部条件" in page and 'aria-label="已选条件"' in page
    chips = re.findall(r'<li><a href="([^"]+)" title="去掉这个条件">', page)
    assert len(chips) == 2  # one per filter in use, each keeping the other
    assert any("openness=open" in c and "theme" not in c for c in chips)
    assert not re.search(r'aria-label="已选条件"', app_client.get("/catalog").text)
