"""A console page that meets a library error answers with the error page, in the reader's
language, never with the API's JSON."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy.exc
from fastapi.testclient import TestClient

from tests.console.test_pages import csrf, login
from yaosu.catalog import service as catalog


def _locked(*args: object, **kwargs: object) -> None:
    raise sqlalchemy.exc.OperationalError(
        "SELECT datasets.id FROM datasets", {}, sqlite3.OperationalError("database is locked")
    )


def test_a_database_error_on_a_page_is_the_html_error_page(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(app_client, "coop-manager")
    monkeypatch.setattr(catalog, "list_datasets", _locked)
    page = app_client.get("/home", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "系统繁忙，请稍后重试。" in page.text and "<code>BUSY</code>" in page.text
    assert page.headers["content-security-policy"]  # answered inside the app's middleware
    english = app_client.get("/home?lang=en", headers={"Accept": "text/html"})
    assert english.status_code == 503
    assert "The system is busy; try again shortly." in english.text
    api = app_client.get("/api/v1/datasets")  # the API, meanwhile, keeps its JSON shape
    assert api.status_code == 503 and api.json()["error"]["code"] == "BUSY"


def test_a_form_pydantic_refuses_is_shown_again_naming_the_fields(app_client: TestClient) -> None:
    login(app_client, "coop-manager")
    token = csrf(app_client, "/datasets/new")
    page = app_client.post(
        "/datasets/new", data={"csrf_token": token, "title": " ", "theme": "农业"}
    )
    assert page.status_code == 422 and 'name="title"' in page.text  # the form, not JSON
    assert "title: String should have at least 1 character" in page.text
