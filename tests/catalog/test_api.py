"""The catalog over HTTP: create, upload, browse, preview, download, and who may do what."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.catalog.helpers import snapshot
from tests.conftest import auth, dataset_id
from yaosu.audit.models import AuditEntry
from yaosu.catalog.models import Dataset
from yaosu.context import Context

FARM = "农产品销售"
RESIDENTS = "参保人员"
POWER = "用电量"
GBK_CSV = "乡镇,产品,销量\n城关镇,水稻,12.5\n石桥镇,茶叶,0.8\n".encode("gbk")


def create(client: TestClient, headers: dict[str, str], **fields: object) -> dict:
    body = {"title": "乡镇人口统计", "theme": "人口", "openness": "有条件开放", **fields}
    r = client.post("/api/v1/datasets", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_create_update_and_upload_by_raw_body_and_multipart(
    app_client: TestClient, ctx: Context
) -> None:
    headers = auth(ctx, "bureau-analyst")
    ds = create(app_client, headers, keywords=["人口", " 人口 ", ""], update_frequency="每年")
    assert ds["openness"] == "conditional" and ds["openness_label"] == "有条件开放"
    assert ds["keywords"] == ["人口"] and ds["update_frequency"] == "annual"
    assert ds["publisher"] == "江州市数据局"

    raw = app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=people.csv",
        content=GBK_CSV,
        headers=headers,
    )
    assert raw.status_code == 201, raw.text
    assert raw.json()["number"] == 1 and raw.json()["source_encoding"] == "GBK"
    form = app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions",
        files={
            "file": (
                "people.tsv",
                "乡镇\t人口\n城关镇\t1200\n".encode(),
                "text/tab-separated-values",
            )
        },
        headers=headers,
    )
    assert form.status_code == 201, form.text
    assert form.json()["number"] == 2 and form.json()["source_format"] == "tsv"

    versions = app_client.get(f"/api/v1/datasets/{ds['id']}/versions", headers=headers).json()
    assert [v["number"] for v in versions["items"]] == [2, 1]
    assert (
        app_client.get(f"/api/v1/datasets/{ds['id']}", headers=headers).json()["latest_version"]
        == 2
    )

    # Opening needs the provider's admin, and the latest version's privacy screen confirmed
    # clean by a reviewer.
    opening = {"openness": "无条件开放"}
    admin = auth(ctx, "bureau-admin")
    refused = app_client.patch(f"/api/v1/datasets/{ds['id']}", json=opening, headers=admin)
    assert refused.status_code == 403 and "隐私筛查" in refused.json()["error"]["message"]
    screen = app_client.post(f"/api/v1/datasets/{ds['id']}/versions/2/screens", headers=headers)
    assert screen.status_code == 201 and screen.json()["personal"] is False
    reviewer = auth(ctx, "bureau-reviewer")
    confirmed = app_client.post(
        f"/api/v1/screens/{screen.json()['id']}/review", json={}, headers=reviewer
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    member = app_client.patch(f"/api/v1/datasets/{ds['id']}", json=opening, headers=headers)
    assert member.status_code == 403 and "管理员" in member.json()["error"]["message"]
    patched = app_client.patch(f"/api/v1/datasets/{ds['id']}", json=opening, headers=admin)
    assert patched.status_code == 200 and patched.json()["openness"] == "open"


def test_failed_upload_says_why_in_the_users_language_and_stores_nothing(
    app_client: TestClient, ctx: Context
) -> None:
    headers = auth(ctx, "bureau-admin")
    ds = create(app_client, headers)
    before = snapshot(ctx)
    zh = app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=r.csv",
        content=b"a,b\n1,2\n3\n",
        headers=headers,
    )
    assert zh.status_code == 422
    assert zh.json()["error"] == {
        "code": "RAGGED_ROWS",
        "message": "第 3 行有 1 列，而表头有 2 列。",
        "detail": {"expected": 2, "got": 1, "line": 3},
    }
    en = app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=r.csv",
        content=b"a,b\n1,2\n3\n",
        headers={**headers, "Accept-Language": "en"},
    )
    assert en.json()["error"]["message"] == "Row 3 has 1 columns but the header has 2."
    assert snapshot(ctx)[:2] == before[:2]
    assert snapshot(ctx)[2] == []  # the spooled upload is gone too


def test_upload_over_the_limit_is_refused_while_streaming(
    app_client: TestClient, ctx: Context
) -> None:
    ctx.settings.max_upload_bytes = 10_000
    headers = auth(ctx, "bureau-admin")
    ds = create(app_client, headers)

    def body():  # no Content-Length: the server must count
        for _ in range(100):
            yield b"a,b\n" + b"1,2\n" * 100

    r = app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=big.csv", content=body(), headers=headers
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "FILE_TOO_LARGE"
    assert snapshot(ctx)[2] == []


def test_upload_needs_a_filename_and_a_file(app_client: TestClient, ctx: Context) -> None:
    headers = auth(ctx, "bureau-admin")
    ds = create(app_client, headers)
    r = app_client.post(f"/api/v1/datasets/{ds['id']}/versions", content=b"a\n1\n", headers=headers)
    assert r.status_code == 422 and "filename" in r.json()["error"]["message"]
    r = app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions",
        data={"x": "1"},
        files={"other": ("a.csv", b"a\n1\n")},
        headers=headers,
    )
    assert r.status_code == 422 and "file" in r.json()["error"]["message"]


def test_someone_elses_dataset(app_client: TestClient, ctx: Context) -> None:
    farm, residents, power = (
        dataset_id(ctx, FARM),
        dataset_id(ctx, RESIDENTS),
        dataset_id(ctx, POWER),
    )
    outsider = auth(ctx, "ai-analyst")
    # closed data does not exist for outsiders
    r = app_client.get(f"/api/v1/datasets/{power}", headers=outsider)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    assert (
        app_client.get(f"/api/v1/datasets/{power}/versions/1/preview", headers=outsider).status_code
        == 404
    )
    # conditional data is listed but its rows need a contract
    assert app_client.get(f"/api/v1/datasets/{residents}", headers=outsider).status_code == 200
    r = app_client.get(f"/api/v1/datasets/{residents}/versions/1/data", headers=outsider)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "FORBIDDEN"
    assert "申请" in r.json()["error"]["message"]
    # nobody else may change or add to it
    r = app_client.patch(f"/api/v1/datasets/{farm}", json={"title": "改"}, headers=outsider)
    assert r.status_code == 403
    r = app_client.post(
        f"/api/v1/datasets/{farm}/versions?filename=x.csv", content=b"a\n1\n", headers=outsider
    )
    assert r.status_code == 403
    # a reviewer of the owner may look but not change
    r = app_client.patch(
        f"/api/v1/datasets/{farm}", json={"title": "改"}, headers=auth(ctx, "bureau-reviewer")
    )
    assert r.status_code == 403
    # only providers register datasets
    r = app_client.post("/api/v1/datasets", json={"title": "x", "theme": "y"}, headers=outsider)
    assert r.status_code == 403
    # and every refusal is in the audit log
    with ctx.db.transaction() as session:
        denials = list(session.scalars(select(AuditEntry).where(AuditEntry.decision == "deny")))
    assert {d.action for d in denials} >= {
        "dataset.view",
        "dataset.read",
        "dataset.edit",
        "dataset.create",
    }
    assert all(d.reason for d in denials)


def test_regulators_see_closed_metadata_but_not_rows(app_client: TestClient, ctx: Context) -> None:
    power = dataset_id(ctx, POWER)
    inspector = auth(ctx, "dsj-inspector")
    assert app_client.get(f"/api/v1/datasets/{power}", headers=inspector).status_code == 200
    assert (
        app_client.get(f"/api/v1/datasets/{power}/versions/1/data", headers=inspector).status_code
        == 403
    )


def test_open_data_preview_and_download_are_audited(app_client: TestClient, ctx: Context) -> None:
    farm = dataset_id(ctx, FARM)
    preview = app_client.get(f"/api/v1/datasets/{farm}/versions/1/preview?limit=5")  # anonymous
    assert preview.status_code == 200
    body = preview.json()
    assert body["columns"][:3] == ["乡镇", "村", "产品"] and len(body["rows"]) == 5
    assert body["total_rows"] == 6000
    data = app_client.get(
        f"/api/v1/datasets/{farm}/versions/1/data", headers=auth(ctx, "coop-manager")
    )
    assert data.status_code == 200
    assert data.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(data.content))
    assert table.num_rows == 6000
    import hashlib

    assert hashlib.sha256(data.content).hexdigest() == data.headers["x-content-sha256"]
    with ctx.db.transaction() as session:
        actions = [
            e.action
            for e in session.scalars(select(AuditEntry).where(AuditEntry.object_id == farm))
        ]
    assert "dataset.preview" in actions and "dataset.download" in actions


def test_listing_is_paginated_and_hides_closed_data(app_client: TestClient, ctx: Context) -> None:
    headers = auth(ctx, "bureau-admin")
    for i in range(5):
        create(app_client, headers, title=f"分页测试{i}", openness="open")
    with ctx.db.transaction() as session:
        every = len(list(session.scalars(select(Dataset.id))))  # the 5 new ones included
    first = app_client.get("/api/v1/datasets?limit=3").json()
    second = app_client.get("/api/v1/datasets?limit=3&offset=3").json()
    assert first["total"] == second["total"] == every - 1  # all but the demo's closed one
    ids = [d["id"] for d in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 6
    assert dataset_id(ctx, POWER) not in {
        d["id"] for d in app_client.get("/api/v1/datasets?limit=100").json()["items"]
    }
    own = app_client.get("/api/v1/datasets?limit=100", headers=headers).json()
    assert own["total"] == every  # the owner sees its closed data too


def test_vocabulary(app_client: TestClient) -> None:
    r = app_client.get("/api/v1/datasets/vocabulary").json()
    assert r["openness"] == {
        "open": "无条件开放",
        "conditional": "有条件开放",
        "closed": "不予开放",
    }


def test_bad_openness_is_a_clear_validation_error(app_client: TestClient, ctx: Context) -> None:
    r = app_client.post(
        "/api/v1/datasets",
        json={"title": "x", "theme": "y", "openness": "半开放"},
        headers=auth(ctx, "bureau-admin"),
    )
    assert r.status_code == 422
    assert r.json()["error"]["detail"]["fields"][0]["field"] == "openness"


def test_the_same_data_as_the_latest_version_makes_no_new_version(
    app_client: TestClient, ctx: Context
) -> None:
    """A re-upload of the newest version's data (even under another name or format) is
    refused with the version it already is, and changes nothing: no version, no object, no
    audit entry. Only the newest version counts: going back to older data is a new version."""
    headers = auth(ctx, "bureau-analyst")
    ds = create(app_client, headers)
    url = f"/api/v1/datasets/{ds['id']}/versions"
    first = app_client.post(
        f"{url}?filename=a.csv", content="乡镇,人口\n城关镇,1200\n".encode(), headers=headers
    )
    assert first.status_code == 201 and first.json()["number"] == 1
    before = snapshot(ctx)
    with ctx.db.transaction() as session:
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    again = app_client.post(
        f"{url}?filename=copy.csv",
        content="乡镇,人口\n城关镇,1200\n".encode(),
        headers={**headers, "Accept-Language": "zh-CN"},
    )
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "IDENTICAL_TO_LATEST"
    assert "第 1 版" in again.json()["error"]["message"]
    assert snapshot(ctx)[:2] == before[:2]
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries
    other = app_client.post(
        f"{url}?filename=b.csv", content="乡镇,人口\n城关镇,1300\n".encode(), headers=headers
    )
    assert other.status_code == 201 and other.json()["number"] == 2
    back = app_client.post(
        f"{url}?filename=a.csv", content="乡镇,人口\n城关镇,1200\n".encode(), headers=headers
    )
    assert back.status_code == 201 and back.json()["number"] == 3
