"""Access requests through the API: routing by rule, reviews with conditions, the contract
they make, its use and its limits, suspension and expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import actor, auth, dataset_id
from yaosu.accounts.models import Organisation
from yaosu.authorization.models import AccessRequest, Contract
from yaosu.context import Context
from yaosu.kernel.db import utcnow

FIELDS = ["参保类型", "所属乡镇", "缴费档次(元)"]


def ask(ctx: Context, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purpose": "rural_revitalisation",
        "datasets": {dataset_id(ctx, "参保人员"): FIELDS},
        "operations": ["aggregate"],
        "days": 30,
        "max_uses": 5,
        "epsilon": 2.0,
        "justification": "测算各乡镇参保结构，支撑乡村振兴资源配置。",
    }
    return body | overrides


def org_id(ctx: Context, department_or_name: str) -> str:
    with ctx.db.transaction() as session:
        org = session.scalar(
            select(Organisation).where(
                (Organisation.department == department_or_name)
                | (Organisation.name == department_or_name)
            )
        )
        assert org is not None
        return org.id


def submitted(app_client: TestClient, ctx: Context, **overrides: Any) -> dict[str, Any]:
    made = app_client.post(
        "/api/v1/requests", json=ask(ctx, **overrides), headers=auth(ctx, "ai-analyst")
    )
    assert made.status_code == 201, made.text
    return made.json()


def approved(app_client: TestClient, ctx: Context, **overrides: Any) -> dict[str, Any]:
    req = submitted(app_client, ctx, **overrides)
    for reviewer in ("cac-inspector", "bureau-reviewer"):
        done = app_client.post(
            f"/api/v1/requests/{req['id']}/reviews",
            json={"decision": "approve", "reason": "用途正当，字段必要"},
            headers=auth(ctx, reviewer),
        )
        assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved"
    return accepted(app_client, ctx, done.json()["contract_id"])


def accepted(
    app_client: Any, ctx: Context, contract_id: str, user: str = "ai-analyst"
) -> dict[str, Any]:
    """The data user's admin accepts the contract the approvals made: it comes into force."""
    done = app_client.post(
        f"/api/v1/contracts/{contract_id}/acceptance",
        json={"decision": "accept"},
        headers=auth(ctx, user),
    )
    assert done.status_code == 200 and done.json()["status"] == "active", done.text
    return dict(done.json())


def test_personal_data_is_routed_to_the_provider_and_the_cac(
    app_client: TestClient, ctx: Context
) -> None:
    req = submitted(app_client, ctx)
    rules = {r["reviewer_org_id"]: r["rule"] for r in req["reviews"]}
    assert rules == {org_id(ctx, "江州市数据局"): "provider", org_id(ctx, "网信"): "personal"}
    assert req["status"] == "submitted" and req["pricing"] == "capped"
    assert all(r["status"] == "pending" for r in req["reviews"])
    # who sees it: the requester, its reviewers and oversight; nobody else
    path = f"/api/v1/requests/{req['id']}"
    assert app_client.get(path, headers=auth(ctx, "coop-manager")).status_code == 404
    assert app_client.get(path, headers=auth(ctx, "dsj-inspector")).status_code == 200
    inbox = app_client.get("/api/v1/requests?inbox=true", headers=auth(ctx, "cac-inspector")).json()
    assert req["id"] in [r["id"] for r in inbox["items"]]  # beside the demo's pending one
    assert (
        app_client.get("/api/v1/requests?inbox=true", headers=auth(ctx, "ai-analyst")).json()[
            "total"
        ]
        == 0
    )


def test_reviews_in_any_order_make_a_contract_narrowed_by_conditions(
    app_client: TestClient, ctx: Context
) -> None:
    req = submitted(app_client, ctx)
    residents = dataset_id(ctx, "参保人员")
    member = app_client.post(
        f"/api/v1/requests/{req['id']}/reviews",
        json={"decision": "approve", "reason": "同意"},
        headers=auth(ctx, "bureau-analyst"),
    )
    assert member.status_code == 403  # a member of the provider is not its reviewer
    wider = app_client.post(
        f"/api/v1/requests/{req['id']}/reviews",
        json={"decision": "conditional", "reason": "收窄", "conditions": {"days": 90}},
        headers=auth(ctx, "cac-inspector"),
    )
    assert wider.status_code == 422 and "30" in wider.json()["error"]["message"]
    cac = app_client.post(
        f"/api/v1/requests/{req['id']}/reviews",
        json={
            "decision": "conditional",
            "reason": "缴费档次涉及个人经济状况，去除；预算减半",
            "conditions": {"fields": {residents: ["参保类型", "所属乡镇"]}, "epsilon": 1.0},
        },
        headers=auth(ctx, "cac-inspector"),
    )
    assert cac.status_code == 200 and cac.json()["status"] == "submitted"
    again = app_client.post(
        f"/api/v1/requests/{req['id']}/reviews",
        json={"decision": "approve", "reason": "再次"},
        headers=auth(ctx, "cac-inspector"),
    )
    assert again.status_code == 409
    bureau = app_client.post(
        f"/api/v1/requests/{req['id']}/reviews",
        json={
            "decision": "conditional",
            "reason": "缩短期限",
            "conditions": {"days": 20, "min_group_size": 20},
        },
        headers=auth(ctx, "bureau-reviewer"),
    )
    done = bureau.json()
    assert bureau.status_code == 200 and done["status"] == "approved" and done["contract_id"]
    offered = app_client.get(
        f"/api/v1/contracts/{done['contract_id']}", headers=auth(ctx, "ai-analyst")
    ).json()
    assert offered["status"] == "offered" and offered["accepted_at"] is None
    contract = accepted(app_client, ctx, done["contract_id"])
    assert contract["datasets"] == {residents: ["参保类型", "所属乡镇"]}
    assert contract["epsilon_budget"] == 1.0 and contract["max_uses"] == 5
    assert contract["min_group_size"] == 20 and contract["status"] == "active"
    term = _parse(contract["ends_at"]) - _parse(contract["starts_at"])
    assert term == timedelta(days=20)
    assert {d["action"] for d in contract["duties"]} == {"attribute", "report_usage", "compensate"}
    assert set(contract["prohibitions"]) == {"reidentify", "transfer", "export_raw"}
    assert (
        app_client.get(
            f"/api/v1/contracts/{done['contract_id']}", headers=auth(ctx, "coop-manager")
        ).status_code
        == 404
    )


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_one_rejection_ends_the_request(app_client: TestClient, ctx: Context) -> None:
    req = submitted(app_client, ctx)
    rejected = app_client.post(
        f"/api/v1/requests/{req['id']}/reviews",
        json={"decision": "reject", "reason": "用途与所申请字段不相称"},
        headers=auth(ctx, "bureau-reviewer"),
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    statuses = {r["rule"]: r["status"] for r in rejected.json()["reviews"]}
    assert statuses == {"provider": "rejected", "personal": "void"}
    late = app_client.post(
        f"/api/v1/requests/{req['id']}/reviews",
        json={"decision": "approve", "reason": "同意"},
        headers=auth(ctx, "cac-inspector"),
    )
    assert late.status_code == 409
    no_reason = app_client.post(
        f"/api/v1/requests/{submitted(app_client, ctx)['id']}/reviews",
        json={"decision": "approve", "reason": ""},
        headers=auth(ctx, "cac-inspector"),
    )
    assert no_reason.status_code == 422


@pytest.mark.parametrize(
    ("title", "code", "words"),
    [
        ("农产品", 403, "无需申请"),  # open data: use it directly
        ("用电量", 404, "用电量"),  # closed data: not even visible to others
    ],
)
def test_only_conditionally_open_data_is_requested(
    app_client: TestClient, ctx: Context, title: str, code: int, words: str
) -> None:
    target = dataset_id(ctx, title)
    made = app_client.post(
        "/api/v1/requests",
        json=ask(ctx, datasets={target: ["乡镇"]}),
        headers=auth(ctx, "ai-analyst"),
    )
    assert made.status_code == code
    if code == 403:
        assert words in made.json()["error"]["message"]


def test_bad_requests_are_refused_clearly(app_client: TestClient, ctx: Context) -> None:
    headers = auth(ctx, "ai-analyst")
    residents = dataset_id(ctx, "参保人员")
    mine = select(func.count()).where(AccessRequest.requester_org_id == _org_of(ctx, "ai-analyst"))
    with ctx.db.transaction() as session:
        before = session.scalar(mine)  # the demo's own (the AI company's compute request)
    cases = [
        (ask(ctx, purpose="no_such"), "未知用途"),
        (ask(ctx, datasets={residents: ["不存在的字段"]}), "不存在的字段"),
        (ask(ctx, operations=["compute"]), "算法"),
        (ask(ctx, days=5000), "days"),
        (ask(ctx, justification="短"), "justification"),
    ]
    for body, words in cases:
        made = app_client.post("/api/v1/requests", json=body, headers=headers)
        assert made.status_code == 422 and words in made.text, (body, made.text)
    provider = app_client.post(
        "/api/v1/requests", json=ask(ctx), headers=auth(ctx, "bureau-analyst")
    )
    assert provider.status_code == 403  # a provider does not request data
    with ctx.db.transaction() as session:  # nothing half-written: only the demo's own
        assert session.scalar(mine) == before


def test_important_data_adds_the_data_bureau_and_the_industry_authority(
    app_client: TestClient, ctx: Context
) -> None:
    from yaosu.privacy import service as privacy

    residents = dataset_id(ctx, "参保人员")
    reviewer = actor(ctx, "bureau-reviewer")
    with ctx.db.transaction() as session:
        screen = privacy.confirmed_screen(session, dataset_id=residents, version=1)
        assert screen is not None
        screen.status = "proposed"
        privacy.review(
            session, reviewer, screen_id=screen.id, grade="important", note="覆盖全市参保人口"
        )
    missing = app_client.post("/api/v1/requests", json=ask(ctx), headers=auth(ctx, "ai-analyst"))
    assert missing.status_code == 422 and "人社" in missing.json()["error"]["message"]
    from yaosu.accounts import service as accounts

    with ctx.db.transaction() as session:
        accounts.create_org(
            session,
            actor(ctx, "platform-admin"),
            name="江州市人力资源和社会保障局",
            kinds=["regulator"],
            department="人社",
        )
    req = submitted(app_client, ctx)
    rules = sorted(r["rule"] for r in req["reviews"])
    assert rules == ["important", "industry", "personal", "provider"]
    with ctx.db.transaction() as session:
        screen = privacy.confirmed_screen(session, dataset_id=residents, version=1)
        assert screen is not None
        screen.status = "proposed"
        privacy.review(session, reviewer, screen_id=screen.id, grade="core", note="核心数据")
    core = app_client.post("/api/v1/requests", json=ask(ctx), headers=auth(ctx, "ai-analyst"))
    assert core.status_code == 403 and "核心数据" in core.json()["error"]["message"]


def test_an_overdue_request_expires_and_can_be_withdrawn_before(
    app_client: TestClient, ctx: Context
) -> None:
    first, second = submitted(app_client, ctx), submitted(app_client, ctx)
    withdrawn = app_client.post(
        f"/api/v1/requests/{first['id']}/withdraw", headers=auth(ctx, "ai-analyst")
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    with ctx.db.transaction() as session:
        req = session.get(AccessRequest, second["id"])
        assert req is not None
        req.due_at = utcnow() - timedelta(seconds=1)
    seen = app_client.get(f"/api/v1/requests/{second['id']}", headers=auth(ctx, "ai-analyst"))
    assert seen.json()["status"] == "expired"
    late = app_client.post(
        f"/api/v1/requests/{second['id']}/reviews",
        json={"decision": "approve", "reason": "同意"},
        headers=auth(ctx, "cac-inspector"),
    )
    assert late.status_code == 409


def test_using_a_contract_debits_it_and_names_the_clause_that_refuses(
    app_client: TestClient, ctx: Context
) -> None:
    contract = approved(app_client, ctx)
    residents = dataset_id(ctx, "参保人员")
    path = f"/api/v1/contracts/{contract['id']}/decisions"
    headers = auth(ctx, "ai-analyst")

    def use(**body: Any) -> Any:
        payload = {"operation": "aggregate", "dataset_id": residents, "fields": ["所属乡镇"]} | body
        return app_client.post(path, json=payload, headers=headers)

    ok = use(epsilon=0.8)
    assert ok.status_code == 200 and ok.json()["terms"]["columns"] == FIELDS
    assert ok.json()["terms"]["min_group_size"] == 10
    assert ok.json()["contract"]["uses"] == 1 and ok.json()["contract"]["epsilon_spent"] == 0.8
    dry = use(epsilon=0.8, dry_run=True)
    assert dry.status_code == 200 and dry.json()["contract"]["epsilon_spent"] == 0.8
    assert use(epsilon=0.8).status_code == 200
    over = use(epsilon=0.8)
    assert over.status_code == 403 and "ε=0.4" in over.json()["error"]["message"]
    field = use(fields=["姓名"])
    assert field.status_code == 403 and "姓名" in field.json()["error"]["message"]
    extract = use(operation="extract")
    assert extract.status_code == 403 and "extract" in extract.json()["error"]["message"]
    stranger = app_client.post(
        path,
        json={"operation": "aggregate", "dataset_id": residents},
        headers=auth(ctx, "coop-manager"),
    )
    assert stranger.status_code == 404
    # suspension, resumption, revocation
    change = f"/api/v1/contracts/{contract['id']}/status"
    assert (
        app_client.post(
            change, json={"action": "suspend", "reason": "核查"}, headers=headers
        ).status_code
        == 403
    )
    suspended = app_client.post(
        change,
        json={"action": "suspend", "reason": "核查异常调用"},
        headers=auth(ctx, "bureau-admin"),
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert "暂停" in use().json()["error"]["message"]
    resumed = app_client.post(
        change, json={"action": "resume", "reason": "核查完毕"}, headers=auth(ctx, "cac-inspector")
    )
    assert resumed.json()["status"] == "active" and use().status_code == 200
    revoked = app_client.post(
        change, json={"action": "revoke", "reason": "违反约定"}, headers=auth(ctx, "platform-admin")
    )
    assert revoked.json()["status"] == "revoked" and "终止" in use().json()["error"]["message"]
    again = app_client.post(
        change, json={"action": "resume", "reason": "x" * 3}, headers=auth(ctx, "platform-admin")
    )
    assert again.status_code == 409
    # every decision, allowed or not, is in the audit log
    from yaosu.audit.models import AuditEntry

    with ctx.db.transaction() as session:
        entries = list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "contract.use", AuditEntry.object_id == contract["id"]
                )
            )
        )
    assert sum(e.decision == "allow" for e in entries) == 4
    assert sum(e.decision == "deny" for e in entries) == 5  # the stranger never saw it


def test_a_contract_expires_by_itself(app_client: TestClient, ctx: Context) -> None:
    contract = approved(app_client, ctx)
    with ctx.db.transaction() as session:
        row = session.get(Contract, contract["id"])
        assert row is not None
        row.ends_at = utcnow() - timedelta(seconds=1)
    residents = dataset_id(ctx, "参保人员")
    used = app_client.post(
        f"/api/v1/contracts/{contract['id']}/decisions",
        json={"operation": "aggregate", "dataset_id": residents},
        headers=auth(ctx, "ai-analyst"),
    )
    assert used.status_code == 403 and "到期" in used.json()["error"]["message"]
    seen = app_client.get(f"/api/v1/contracts/{contract['id']}", headers=auth(ctx, "ai-analyst"))
    assert seen.json()["status"] == "expired"


def _org_of(ctx: Context, username: str) -> str:
    found = actor(ctx, username).org_id
    assert found is not None
    return found
