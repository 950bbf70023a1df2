"""Console and API error pages for a path or method the app does not serve, in the reader's
language (Starlette's own reason phrase, "Not Found", is English whatever the language)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_error_pages_speak_the_readers_language(app_client: TestClient) -> None:
    missing = app_client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert missing.status_code == 404 and "此地址没有页面或资源" in missing.text
    assert "Not Found" not in missing.text
    english = app_client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert "There is nothing at this address." in english.text
    wrong = app_client.delete("/catalog", headers={"Accept-Language": "zh-CN"})
    assert wrong.status_code == 405 and "此地址不接受这种请求方式" in wrong.text
    api = app_client.get("/api/v1/no-such-thing", headers={"Accept-Language": "zh-CN"})
    assert api.json()["error"]["code"] == "NOT_FOUND"
    assert "此地址没有页面或资源" in api.json()["error"]["message"]
