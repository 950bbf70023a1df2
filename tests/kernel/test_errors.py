from __future__ import annotations

from fastapi.testclient import TestClient

from yaosu.catalog.ingest.errors import IngestError, RaggedRows
from yaosu.kernel import errors
from yaosu.kernel.i18n import negotiate, translations


def test_error_shape_is_pinned(app_client: TestClient) -> None:
    r = app_client.get("/api/v1/datasets/ds_nope")
    assert r.status_code == 404
    assert r.json() == {
        "ok": False,
        "error": {
            "code": "NOT_FOUND",
            "message": "未找到数据集 ds_nope，或您无权查看。",
            "detail": {"kind": "数据集", "id": "ds_nope"},
        },
    }


def test_error_language_follows_the_request(app_client: TestClient) -> None:
    en = app_client.get("/api/v1/datasets/ds_nope", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert en.json()["error"]["message"] == "Dataset ds_nope was not found, or you may not see it."
    q = app_client.get("/api/v1/datasets/ds_nope?lang=en")
    assert q.json()["error"]["message"].endswith("was not found, or you may not see it.")


def test_unknown_route_and_method_use_the_shape(app_client: TestClient) -> None:
    r = app_client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = app_client.put("/api/v1/datasets")
    assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_validation_errors_name_the_field(app_client: TestClient) -> None:
    r = app_client.get("/api/v1/datasets?limit=0")
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["code"] == "VALIDATION_ERROR"
    assert body["detail"]["fields"][0]["field"] == "query.limit"


def test_every_error_class_has_both_languages_and_a_unique_code() -> None:
    """Every error class anywhere (the kernel's and the domains' own, such as ingest's)."""
    import yaosu.api  # noqa: F401  (loads every domain, and with it every error class)

    def subclasses(cls: type[errors.YaosuError]) -> list[type[errors.YaosuError]]:
        return [c for s in cls.__subclasses__() for c in (s, *subclasses(s))]

    seen = {}
    classes = {
        c
        for c in subclasses(errors.YaosuError)
        if c.__module__.startswith("yaosu.") and not c.__name__.startswith("_")
    }  # other tests define classes of their own; which of them are loaded depends on the worker
    assert {c.__module__ for c in classes} >= {"yaosu.kernel.errors", "yaosu.catalog.ingest.errors"}
    assert len(classes) >= 45
    for cls in sorted(classes, key=lambda c: c.__name__):
        if cls is IngestError:
            continue  # a base, never raised
        zh = translations("zh-CN").gettext(cls.en)
        assert cls.en and zh != cls.en, f"{cls.__name__}: add its message to its package's locale"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), cls
        assert cls.code not in seen, (cls, seen.get(cls.code))
        seen[cls.code] = cls
        assert 400 <= cls.status < 600


def test_a_template_missing_a_value_does_not_crash() -> None:
    assert RaggedRows().message("en").startswith("Row {line}")


def test_negotiate() -> None:
    assert negotiate(None, None, None) == "zh-CN"
    assert negotiate(None, None, "en-GB,en;q=0.8") == "en"
    assert negotiate(None, None, "fr-FR,en;q=0.5,zh;q=0.9") == "zh-CN"
    assert negotiate(None, "en", "zh-CN") == "en"
    assert negotiate("zh", "en", None) == "zh-CN"
    assert negotiate(None, None, "en;q=bogus") == "zh-CN"


def test_front_door_and_health(app_client: TestClient) -> None:
    r = app_client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/catalog"  # the console's front door
    assert app_client.get("/healthz").json()["status"] == "ok"
    assert app_client.get("/openapi.json").json()["info"]["title"] == "Yaosu 要素"
