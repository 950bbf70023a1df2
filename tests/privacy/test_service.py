"""Screens through the API: who may screen and review, corrections need reasons, the audit
trail, and the rule that unscreened open data is not readable by others."""

from __future__ import annotations

import pyarrow as pa
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import auth, dataset_id
from yaosu.audit.models import AuditEntry
from yaosu.context import Context
from yaosu.privacy import grading
from yaosu.privacy.scan import scan_table


def test_demo_screens_are_confirmed(app_client: TestClient, ctx: Context) -> None:
    headers = auth(ctx, "bureau-admin")
    residents = app_client.get(
        f"/api/v1/datasets/{dataset_id(ctx, '参保人员')}/screens", headers=headers
    ).json()
    screen = residents["items"][0]
    assert screen["status"] == "confirmed" and screen["personal"] is True
    assert screen["sensitive"] == ["identity_document"] and screen["grade"] == "general"
    assert screen["grade_rule"] == "no rule for important or core data applies"
    farm = app_client.get(
        f"/api/v1/datasets/{dataset_id(ctx, '农产品')}/screens", headers=headers
    ).json()
    assert farm["items"][0]["personal"] is False


def test_only_the_provider_screens_and_only_its_reviewer_confirms(
    app_client: TestClient, ctx: Context
) -> None:
    farm = dataset_id(ctx, "农产品")
    assert (
        app_client.post(
            f"/api/v1/datasets/{farm}/versions/1/screens", headers=auth(ctx, "coop-manager")
        ).status_code
        == 403
    )
    made = app_client.post(
        f"/api/v1/datasets/{farm}/versions/1/screens?mode=full", headers=auth(ctx, "bureau-analyst")
    )
    assert (
        made.status_code == 201
        and made.json()["mode"] == "full"
        and made.json()["rows_scanned"] == 6000
    )
    sid = made.json()["id"]
    assert (
        app_client.post(
            f"/api/v1/screens/{sid}/review", json={}, headers=auth(ctx, "bureau-analyst")
        ).status_code
        == 403
    )
    assert (
        app_client.post(
            f"/api/v1/screens/{sid}/review", json={}, headers=auth(ctx, "cac-inspector")
        ).status_code
        == 403
    )
    no_reason = app_client.post(
        f"/api/v1/screens/{sid}/review",
        json={"grade": "important"},
        headers=auth(ctx, "bureau-reviewer"),
    )
    assert no_reason.status_code == 422 and "理由" in no_reason.json()["error"]["message"]
    corrected = app_client.post(
        f"/api/v1/screens/{sid}/review",
        json={"grade": "important", "note": "涉及粮食安全统计口径"},
        headers=auth(ctx, "bureau-reviewer"),
    )
    assert corrected.status_code == 200 and corrected.json()["grade"] == "important"
    with ctx.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "privacy.review")
            .order_by(AuditEntry.leaf_index.desc())
        ).first()
    assert (
        entry is not None
        and entry.reason == "涉及粮食安全统计口径"
        and entry.detail["corrected"] == ["grade"]
    )


def test_unscreened_open_data_is_not_readable_by_others(
    app_client: TestClient, ctx: Context, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    owner = auth(ctx, "bureau-admin")
    ds = app_client.post(
        "/api/v1/datasets",
        json={"title": "乡镇人口", "theme": "人口", "openness": "open"},
        headers=owner,
    ).json()
    app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=p.csv",
        content="乡镇,人口\n城关镇,1200\n".encode(),
        headers=owner,
    )
    outsider = auth(ctx, "coop-manager")
    refused = app_client.get(f"/api/v1/datasets/{ds['id']}/versions/1/data", headers=outsider)
    assert refused.status_code == 403 and "筛查" in refused.json()["error"]["message"]
    assert (
        app_client.get(f"/api/v1/datasets/{ds['id']}/versions/1/data", headers=owner).status_code
        == 200
    )
    sid = app_client.post(f"/api/v1/datasets/{ds['id']}/versions/1/screens", headers=owner).json()[
        "id"
    ]
    app_client.post(f"/api/v1/screens/{sid}/review", json={}, headers=auth(ctx, "bureau-reviewer"))
    assert (
        app_client.get(f"/api/v1/datasets/{ds['id']}/versions/1/data", headers=outsider).status_code
        == 200
    )
    # a new version is unscreened again
    app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=p.csv",
        content="乡镇,人口\n石桥镇,800\n".encode(),
        headers=owner,
    )
    assert (
        app_client.get(f"/api/v1/datasets/{ds['id']}/versions/2/data", headers=outsider).status_code
        == 403
    )


def test_a_confirmed_personal_screen_keeps_data_closed_to_others(
    app_client: TestClient, ctx: Context
) -> None:
    owner = auth(ctx, "bureau-admin")
    ds = app_client.post(
        "/api/v1/datasets",
        json={"title": "联系人", "theme": "测试", "openness": "conditional"},
        headers=owner,
    ).json()
    app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=c.csv",
        content="姓名,手机\n张伟,13812345678\n".encode(),
        headers=owner,
    )
    screen = app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions/1/screens", headers=owner
    ).json()
    assert screen["personal"] is True
    app_client.post(
        f"/api/v1/screens/{screen['id']}/review", json={}, headers=auth(ctx, "bureau-reviewer")
    )
    opened = app_client.patch(
        f"/api/v1/datasets/{ds['id']}", json={"openness": "open"}, headers=owner
    )
    assert opened.status_code == 403


def test_grading_rules_name_their_factors() -> None:
    table = pa.table({"身份证号": ["330102199701200431"] * 10})
    scan = scan_table(table)
    small = grading.grade(scan, total_rows=10, domain="社会保障", security_flags=[])
    assert small.grade == "general" and small.factors["sensitive_rows"] == 10
    big = grading.grade(scan, total_rows=200_000, domain="社会保障", security_flags=[])
    assert big.grade == "important" and "100,000" in big.rule
    flagged = grading.grade(
        scan, total_rows=10, domain="x", security_flags=["keywords in column 备注: 涉密"]
    )
    assert flagged.grade == "important" and "public-security" in flagged.rule


def test_security_keywords_flag_a_dataset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from yaosu.privacy import security

    table = pa.table({"备注": ["普通记录", "该地块位于军事管理区内", None]})
    scan = scan_table(table)
    assert security.flags(table, scan, total_rows=3) == ["keywords in column 备注: 军事管理区"]
    custom = tmp_path / "words.txt"
    custom.write_text("普通\n", encoding="utf-8")
    assert security.flags(table, scan, total_rows=3, keywords_file=str(custom)) == [
        "keywords in column 备注: 普通"
    ]


def test_an_older_raw_version_stays_closed_when_a_newer_one_is_clean(
    app_client: TestClient, ctx: Context
) -> None:
    owner = auth(ctx, "bureau-admin")
    ds = app_client.post(
        "/api/v1/datasets",
        json={"title": "走访记录", "theme": "测试", "openness": "open"},
        headers=owner,
    ).json()
    raw = "姓名,手机,乡镇\n张伟,13812345678,城关镇\n".encode()
    app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=raw.csv", content=raw, headers=owner
    )
    app_client.post(
        f"/api/v1/datasets/{ds['id']}/versions?filename=clean.csv",
        content="乡镇,人数\n城关镇,1\n".encode(),
        headers=owner,
    )
    sid = app_client.post(f"/api/v1/datasets/{ds['id']}/versions/2/screens", headers=owner).json()[
        "id"
    ]
    app_client.post(f"/api/v1/screens/{sid}/review", json={}, headers=auth(ctx, "bureau-reviewer"))
    outsider = auth(ctx, "coop-manager")
    assert (
        app_client.get(f"/api/v1/datasets/{ds['id']}/versions/2/data", headers=outsider).status_code
        == 200
    )
    assert (
        app_client.get(f"/api/v1/datasets/{ds['id']}/versions/1/data", headers=outsider).status_code
        == 403
    )
    assert app_client.get(f"/api/v1/datasets/{ds['id']}/versions/1/preview").status_code == 403
