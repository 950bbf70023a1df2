"""Rights registration through the API: application, acceptance, formal review, public
notice with objections, code and signed certificate; licences within scope; chain of title;
offline verification."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import auth, dataset_id
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.rights.models import Registration

ADMIN = "platform-admin"


def apply(app_client: TestClient, ctx: Context, user: str = "bureau-admin", **body: Any) -> Any:
    payload = {
        "kind": "holding",
        "dataset_id": dataset_id(ctx, "参保人员"),
        "statement": "本局依法履职采集形成的参保人员数据。",
    } | body
    return app_client.post("/api/v1/registrations", json=payload, headers=auth(ctx, user))


def through_notice(app_client: TestClient, ctx: Context, reg_id: str) -> dict[str, Any]:
    admin = auth(ctx, ADMIN)
    path = f"/api/v1/registrations/{reg_id}/steps"
    assert app_client.post(path, json={"action": "accept"}, headers=admin).status_code == 200
    passed = app_client.post(path, json={"action": "pass", "note": "材料齐全"}, headers=admin)
    assert passed.status_code == 200 and passed.json()["status"] == "in_notice"
    return passed.json()


def end_notice(ctx: Context, reg_id: str) -> None:
    with ctx.db.transaction() as session:
        reg = session.get(Registration, reg_id)
        assert reg is not None
        reg.notice_ends_at = utcnow() - timedelta(seconds=1)


def registered(app_client: TestClient, ctx: Context, **body: Any) -> dict[str, Any]:
    made = apply(app_client, ctx, **body)
    assert made.status_code == 201, made.text
    through_notice(app_client, ctx, made.json()["id"])
    end_notice(ctx, made.json()["id"])
    cert = app_client.post(
        f"/api/v1/registrations/{made.json()['id']}/certificate", headers=auth(ctx, ADMIN)
    )
    assert cert.status_code == 201, cert.text
    return {"registration": made.json(), "certificate": cert.json()}


def test_registration_runs_its_course_and_ends_in_a_signed_certificate(
    app_client: TestClient, ctx: Context
) -> None:
    made = apply(app_client, ctx)
    assert made.status_code == 201 and made.json()["status"] == "applied"
    reg = made.json()["id"]
    assert (
        made.json()["grant"]["status"] == "pending" and made.json()["grant"]["source"] == "original"
    )
    early = app_client.post(f"/api/v1/registrations/{reg}/certificate", headers=auth(ctx, ADMIN))
    assert early.status_code == 409
    # only the registration authority steps it forward
    refused = app_client.post(
        f"/api/v1/registrations/{reg}/steps",
        json={"action": "accept"},
        headers=auth(ctx, "bureau-admin"),
    )
    assert refused.status_code == 403
    noticed = through_notice(app_client, ctx, reg)
    window = _parse(noticed["notice_ends_at"]) - _parse(noticed["notice_starts_at"])
    assert window == timedelta(days=10)
    board = app_client.get("/api/v1/notices").json()  # public, no login
    assert reg in [r["id"] for r in board]  # beside the demo's licence in notice
    inside = app_client.post(f"/api/v1/registrations/{reg}/certificate", headers=auth(ctx, ADMIN))
    assert inside.status_code == 409 and "公示期" in inside.json()["error"]["message"]
    end_notice(ctx, reg)
    cert = app_client.post(f"/api/v1/registrations/{reg}/certificate", headers=auth(ctx, ADMIN))
    assert cert.status_code == 201
    doc = cert.json()["document"]
    assert doc["code"].startswith(f"YS-{utcnow():%Y}-") and doc["right"] == "holding"
    assert doc["holder"]["name"] == "江州市数据局" and len(doc["object"]["sha256"]) == 64
    assert _parse(doc["valid_until"]) - _parse(doc["valid_from"]) >= timedelta(days=1095)
    again = app_client.get(f"/api/v1/registrations/{reg}", headers=auth(ctx, "bureau-admin")).json()
    assert again["status"] == "registered" and again["code"] == doc["code"]
    assert again["grant"]["status"] == "active"
    # a second original holding right over the same dataset is refused
    assert apply(app_client, ctx).status_code == 409
    verdict = app_client.post("/api/v1/certificates/verify", json=cert.json()).json()
    assert verdict["valid"] is True and verdict["status"] == "active"
    forged = json.loads(json.dumps(cert.json()))
    forged["document"]["holder"]["name"] = "某公司"
    bad = app_client.post("/api/v1/certificates/verify", json=forged).json()
    assert bad["valid"] is False and "altered" in bad["problem"]


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_objection_blocks_until_resolved(app_client: TestClient, ctx: Context) -> None:
    reg = apply(app_client, ctx).json()["id"]
    through_notice(app_client, ctx, reg)
    own = app_client.post(
        f"/api/v1/registrations/{reg}/objections",
        json={"reason": "自己反对自己"},
        headers=auth(ctx, "bureau-admin"),
    )
    assert own.status_code == 403
    objection = app_client.post(
        f"/api/v1/registrations/{reg}/objections",
        json={"reason": "部分参保数据由本社采集，应共同持有"},
        headers=auth(ctx, "coop-manager"),
    )
    assert objection.status_code == 201 and objection.json()["status"] == "open"
    end_notice(ctx, reg)
    blocked = app_client.post(f"/api/v1/registrations/{reg}/certificate", headers=auth(ctx, ADMIN))
    assert (
        blocked.status_code == 409 and objection.json()["id"] in blocked.json()["error"]["message"]
    )
    late = app_client.post(
        f"/api/v1/registrations/{reg}/objections",
        json={"reason": "公示期后的异议"},
        headers=auth(ctx, "ai-analyst"),
    )
    assert late.status_code == 409
    dismissed = app_client.post(
        f"/api/v1/objections/{objection.json()['id']}/resolution",
        json={"upheld": False, "resolution": "经核实，数据由市数据局统一归集"},
        headers=auth(ctx, ADMIN),
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert (
        app_client.post(
            f"/api/v1/registrations/{reg}/certificate", headers=auth(ctx, ADMIN)
        ).status_code
        == 201
    )


def test_an_upheld_objection_rejects_the_registration(app_client: TestClient, ctx: Context) -> None:
    reg = apply(app_client, ctx).json()["id"]
    through_notice(app_client, ctx, reg)
    objection = app_client.post(
        f"/api/v1/registrations/{reg}/objections",
        json={"reason": "权属存在争议"},
        headers=auth(ctx, "coop-manager"),
    ).json()
    upheld = app_client.post(
        f"/api/v1/objections/{objection['id']}/resolution",
        json={"upheld": True, "resolution": "权属争议成立"},
        headers=auth(ctx, ADMIN),
    )
    assert upheld.status_code == 200
    after = app_client.get(f"/api/v1/registrations/{reg}", headers=auth(ctx, "bureau-admin")).json()
    assert after["status"] == "rejected" and after["grant"]["status"] == "rejected"


def test_licences_stay_within_their_source_and_the_chain_of_title_shows(
    app_client: TestClient, ctx: Context
) -> None:
    holding = registered(app_client, ctx, purposes=["public_welfare", "rural_revitalisation"])
    parent = holding["registration"]["grant_id"]
    ai = _org(app_client, ctx, "ai-analyst")
    coop = _org(app_client, ctx, "coop-manager")
    wider = apply(
        app_client,
        ctx,
        kind="processing",
        parent_id=parent,
        holder_org_id=ai,
        purposes=["commercial_marketing"],
        statement="许可加工使用",
    )
    assert wider.status_code == 422 and "用途须在" in wider.json()["error"]["message"]
    longer = apply(
        app_client,
        ctx,
        kind="processing",
        parent_id=parent,
        holder_org_id=ai,
        purposes=["rural_revitalisation"],
        years=30,
        statement="许可加工使用",
    )
    assert longer.status_code == 422
    licence = registered(
        app_client,
        ctx,
        kind="processing",
        parent_id=parent,
        holder_org_id=ai,
        purposes=["rural_revitalisation"],
        years=2,
        statement="许可智谷加工使用，用于乡村振兴测算",
    )
    child = licence["registration"]["grant_id"]
    assert licence["certificate"]["document"]["source"] == "licence"
    # a processing-use right never grants an operation right
    operation = apply(
        app_client,
        ctx,
        user="ai-analyst",
        kind="operation",
        parent_id=child,
        holder_org_id=coop,
        purposes=["rural_revitalisation"],
        years=1,
        statement="再许可经营",
    )
    assert operation.status_code == 422 and "不能授予" in operation.json()["error"]["message"]
    # only its holder passes a right on
    stolen = apply(
        app_client,
        ctx,
        user="coop-manager",
        kind="processing",
        parent_id=child,
        holder_org_id=coop,
        purposes=["rural_revitalisation"],
        years=1,
        statement="冒用他人权利再许可",
    )
    assert stolen.status_code == 403
    links = app_client.get(f"/api/v1/rights/{child}/chain").json()
    assert [g["id"] for g in links] == [parent, child]
    assert [g["source"] for g in links] == ["original", "licence"]


def _org(app_client: TestClient, ctx: Context, username: str) -> str:
    return str(app_client.get("/api/v1/me", headers=auth(ctx, username)).json()["org"]["id"])


def test_a_transfer_ends_the_transferors_right(app_client: TestClient, ctx: Context) -> None:
    holding = registered(app_client, ctx)
    parent = holding["registration"]["grant_id"]
    ai = _org(app_client, ctx, "ai-analyst")
    moved = registered(
        app_client,
        ctx,
        kind="holding",
        parent_id=parent,
        holder_org_id=ai,
        transfer=True,
        years=1,
        statement="依协议转让持有权",
    )
    rights = {g["id"]: g["status"] for g in app_client.get("/api/v1/rights").json()}
    assert rights[parent] == "transferred" and rights[moved["registration"]["grant_id"]] == "active"


def test_yaosu_rights_verify_checks_a_certificate_offline(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    cert = registered(app_client, ctx)["certificate"]
    key = app_client.get("/api/v1/certificates/key").json()["key"]
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(cert, ensure_ascii=False), encoding="utf-8")
    env = {  # no database
        "YAOSU_HOME": str(tmp_path / "elsewhere"),
        "PATH": "/usr/bin:/bin",
        "YAOSU_LANG": "en",
    }
    ok = subprocess.run(
        [sys.executable, "-m", "yaosu", "rights", "verify", str(path), "--key", key],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert ok.returncode == 0 and "VALID" in ok.stdout and cert["document"]["code"] in ok.stdout
    cert["document"]["object"]["sha256"] = "0" * 64
    path.write_text(json.dumps(cert), encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-m", "yaosu", "rights", "verify", str(path), "--key", key],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 1 and "INVALID" in bad.stderr
    # a certificate checked against another key is refused, whatever key it carries
    from yaosu.audit.keys import Signer

    other = Signer.generate("someone-else").verifier_key()
    wrong = subprocess.run(
        [sys.executable, "-m", "yaosu.rights.certify", str(path), other],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert wrong.returncode == 1 and "different key" in wrong.stderr
