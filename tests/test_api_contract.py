"""The API keeps its OpenAPI promises: bounded integers, real ISO 8601 times, typed label fields,
``Allow`` on 405, the error responses and media types it really sends, all declared.

Each test here pins one class of defect that schemathesis found (issue 11, section 5); the
fuzzer itself is tests/test_api_fuzz.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, dataset_id
from yaosu.api import create_app
from yaosu.context import Context
from yaosu.kernel.settings import Settings
from yaosu.web.params import MAX_INT
from yaosu.web.security import UNSTORABLE_TEXT

ERROR_STATUSES = ("401", "403", "404", "409", "422", "503")


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("openapi")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'y.db'}")
    return create_app(settings, migrate=False).openapi()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _integers(spec: dict[str, Any], schema: Any, where: str, seen: set[str]) -> list[tuple]:
    """Every integer schema reachable from ``schema``, with where it is."""
    found: list[tuple] = []
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name in seen:
                return found
            seen = seen | {name}
            return _integers(spec, _resolve(spec, schema), f"{where}->{name}", seen)
        if schema.get("type") == "integer":
            found.append((where, schema))
        for key, value in schema.items():
            found += _integers(spec, value, f"{where}.{key}", seen)
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found += _integers(spec, value, f"{where}[{i}]", seen)
    return found


def test_every_integer_a_client_sends_is_bounded(spec: dict[str, Any]) -> None:
    """Parameters and request bodies: an unbounded integer reaches the database as an overflow
    (a 500 on 13 routes before). Both bounds, the upper one at most 2**63 - 1."""
    unbounded = []
    for method, path, op in _operations(spec):
        sources = [(f"{p['in']} {p['name']}", p["schema"]) for p in op.get("parameters", [])]
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            sources.append((f"body {media}", content.get("schema", {})))
        for where, schema in sources:
            for at, integer in _integers(spec, schema, where, set()):
                upper = integer.get("maximum", integer.get("exclusiveMaximum"))
                lower = integer.get("minimum", integer.get("exclusiveMinimum"))
                if upper is None or lower is None or upper > MAX_INT or lower < -MAX_INT - 1:
                    unbounded.append(f"{method} {path}: {at}")
    assert not unbounded, unbounded


def _fill(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), "x")), path)


def _integer_parameters(spec: dict[str, Any]) -> list[tuple[str, str, str, str, int]]:
    """(method, path, where, name, declared maximum) of every integer parameter."""
    return [
        (method, path, p["in"], p["name"], int(schema["maximum"]))
        for method, path, op in _operations(spec)
        for p in op.get("parameters", [])
        for schema in [p["schema"], *p["schema"].get("anyOf", [])]
        if schema.get("type") == "integer"
    ]


def test_integers_out_of_range_are_422_and_in_range_never_500(
    ctx: Context, app_client: TestClient, spec: dict[str, Any]
) -> None:
    """Every integer parameter of every route, on a real dataset: 2**63, one above the declared
    maximum and -1 are refused with a clear 422; the declared maximum itself is answered without
    a 500 on both backends (a version number is an int4 on PostgreSQL)."""
    headers = auth(ctx, "bureau-admin")
    world = {"dataset_id": dataset_id(ctx, "农产品"), "number": 1, "size": 1, "index": 0}
    params = _integer_parameters(spec)
    assert len(params) >= 13  # versions, checkpoints, proofs, offsets, limits...
    for method, path, where, name, maximum in params:
        for value, refused in ((2**63, True), (maximum + 1, True), (-1, True), (maximum, False)):
            if where == "path":
                url, query = _fill(path, {**world, name: value}), {}
            else:
                url, query = _fill(path, world), {name: value}
                if {"first", "second"} & {name}:  # both are required
                    query = {"first": 1, "second": 1, name: value}
            body = {} if method in ("POST", "PUT", "PATCH") else None
            answer = app_client.request(method, url, params=query, json=body, headers=headers)
            label = f"{method} {path} {where} {name}={value}: {answer.status_code} {answer.text}"
            assert answer.status_code < 500, label
            if refused and not (value == -1 and name in ("index", "offset")):
                assert answer.status_code == 422, label
                assert answer.json()["error"]["code"] == "VALIDATION_ERROR", label


@pytest.mark.parametrize("field", ["update_frequency", "openness"])
@pytest.mark.parametrize("wrong", [[], {}, ["open"], {"a": 1}, 1, True])
def test_label_fields_of_the_wrong_json_type_are_422(
    ctx: Context, app_client: TestClient, field: str, wrong: Any
) -> None:
    """A list or object where a label string belongs was a TypeError (500) in the validator."""
    headers = auth(ctx, "bureau-admin")
    made = app_client.post(
        "/api/v1/datasets", json={"title": "t", "theme": "农业", field: wrong}, headers=headers
    )
    assert made.status_code == 422, made.text
    assert made.json()["error"]["code"] == "VALIDATION_ERROR"
    ds = dataset_id(ctx, "农产品")
    patched = app_client.patch(f"/api/v1/datasets/{ds}", json={field: wrong}, headers=headers)
    assert patched.status_code == 422, patched.text


def test_labels_and_codes_are_still_accepted_and_declared(
    ctx: Context, app_client: TestClient, spec: dict[str, Any]
) -> None:
    headers = auth(ctx, "bureau-admin")
    made = app_client.post(
        "/api/v1/datasets",
        json={
            "title": "t",
            "theme": "农业",
            "openness": "无条件开放",
            "update_frequency": "monthly",
        },
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["openness"] == "open"
    declared = _resolve(spec, spec["components"]["schemas"]["DatasetCreate"])["properties"]
    assert {"无条件开放", "open"} <= set(declared["openness"]["enum"])


@pytest.mark.parametrize(
    "value", ["0.5", "1700000000", "0", "yesterday", "2026-13-01T00:00:00Z", "2026-01-01T25:00"]
)
def test_times_must_be_iso_8601(ctx: Context, app_client: TestClient, value: str) -> None:
    """``?until=0.5`` was taken as half a second after 1970."""
    headers = auth(ctx, "cac-inspector")
    for name in ("since", "until"):
        answer = app_client.get("/api/v1/audit", params={name: value}, headers=headers)
        assert answer.status_code == 422, (name, value, answer.text)
        assert "ISO 8601" in answer.json()["error"]["message"] or "时间" in answer.text


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-13T08:00:00+08:00",
        "2026-01-13T00:00:00Z",
        "2026-01-13T00:00:00",
        "0001-01-01T00:00:00+05:00",  # shifted below year 1 by its zone: clamped, not a 500
        "9999-12-31T23:59:59-05:00",
    ],
)
def test_iso_8601_times_are_accepted(ctx: Context, app_client: TestClient, value: str) -> None:
    headers = auth(ctx, "cac-inspector")
    answer = app_client.get("/api/v1/audit", params={"since": value}, headers=headers)
    assert answer.status_code == 200, answer.text


def test_405_names_every_method_of_the_path(app_client: TestClient) -> None:
    """GET and POST /api/v1/orgs are two routes; the 405 carried no Allow at all."""
    answer = app_client.request("PUT", "/api/v1/orgs")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    allowed = {m.strip() for m in answer.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "PUT" not in allowed
    # a literal path is its own resource, not also the templated one beside it
    for path, methods in (
        ("/api/v1/datasets/vocabulary", {"GET"}),
        ("/api/v1/contracts/odrl", {"POST"}),
        ("/api/v1/certificates/verify", {"POST"}),
    ):
        answer = app_client.request("PUT", path)
        assert answer.status_code == 405, path
        assert {m.strip() for m in answer.headers["allow"].split(",")} - {"HEAD"} == methods


def test_every_operation_declares_the_error_responses(spec: dict[str, Any]) -> None:
    missing = []
    for method, path, op in _operations(spec):
        for status in ERROR_STATUSES:
            declared = op["responses"].get(status, {}).get("content", {})
            schema = declared.get("application/json", {}).get("schema", {})
            if schema.get("$ref") != "#/components/schemas/ErrorPublic":
                missing.append(f"{method} {path} {status}")
    assert not missing, missing
    error = _resolve(spec, {"$ref": "#/components/schemas/ErrorPublic"})
    assert set(error["required"]) == {"error"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_a_validation_error_matches_the_declared_error_schema(
    ctx: Context, app_client: TestClient
) -> None:
    body = app_client.get("/api/v1/datasets", params={"limit": "x"}).json()
    assert body["ok"] is False
    assert set(body["error"]) == {"code", "message", "detail"}


@pytest.mark.parametrize("raw", [b"\x0b\xffN\xffU;", b'{"name": '])
def test_an_unparsable_body_is_422_not_400(
    ctx: Context, app_client: TestClient, raw: bytes
) -> None:
    headers = {**auth(ctx, "bureau-admin"), "content-type": "application/json"}
    answer = app_client.post("/api/v1/tokens", content=raw, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "VALIDATION_ERROR"


def test_json_ld_is_declared_where_it_is_served(
    ctx: Context, app_client: TestClient, spec: dict[str, Any]
) -> None:
    """The DCAT catalog and ODRL exports are application/ld+json; the OpenAPI said JSON."""
    for path in ("/api/v1/catalog", "/api/v1/contracts/{contract_id}/odrl"):
        declared = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert list(declared) == ["application/ld+json"], (path, declared)
    served = app_client.get("/api/v1/catalog")
    assert served.status_code == 200
    assert served.headers["content-type"].split(";")[0] == "application/ld+json"


def test_odrl_check_mode_declares_its_200(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/api/v1/contracts/odrl"]["post"]["responses"]
    assert {"200", "201"} <= set(responses)


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy"])
def test_text_no_database_stores_is_422_everywhere(
    ctx: Context, app_client: TestClient, text: str
) -> None:
    """NUL was a 500 on PostgreSQL (and silently stored on SQLite); a lone surrogate, which JSON
    may carry as an escape, cannot be encoded for either."""
    headers = auth(ctx, "bureau-admin")

    def post(url: str, body: dict[str, Any], **extra: str) -> Any:
        raw = json.dumps(body).encode()  # ASCII, with the character as a \\u escape
        sent = {**extra, "content-type": "application/json"}
        return app_client.post(url, content=raw, headers=sent)

    asked = [
        post("/api/v1/auth/login", {"username": text, "password": "x"}),
        post("/api/v1/tokens", {"name": text}, **headers),
        post("/api/v1/datasets", {"title": "t", "theme": "农业", "keywords": [text]}, **headers),
        post("/api/v1/datasets", {"title": "t", "theme": "农业", text: 1}, **headers),
    ]
    if "\x00" in text:  # a URL can carry NUL (percent-encoded), not a lone surrogate
        asked += [
            app_client.get("/api/v1/datasets", params={"q": text}, headers=headers),
            app_client.get("/api/v1/audit", params={"object_id": text}, headers=headers),
            app_client.get("/api/v1/datasets/a%00b", headers=headers),
        ]
    for answer in asked:
        assert answer.status_code == 422, (answer.request.url, answer.text)
        assert answer.json()["error"]["code"] == "VALIDATION_ERROR"


def test_uploaded_files_are_data_not_text_fields(ctx: Context, app_client: TestClient) -> None:
    """The text check reads declared bodies only: a raw upload streams to ingest untouched."""
    headers = {**auth(ctx, "bureau-admin"), "content-type": "application/json"}
    ds = dataset_id(ctx, "农产品")
    raw = b'[{"a": "x\\u0000y", "b": 1}, {"a": "z", "b": 2}]'
    answer = app_client.post(
        f"/api/v1/datasets/{ds}/versions",
        params={"filename": "x.json"},
        content=raw,
        headers=headers,
    )
    assert answer.status_code < 500, answer.text
    assert all(UNSTORABLE_TEXT.render(lang) not in answer.text for lang in ("zh-CN", "en"))
