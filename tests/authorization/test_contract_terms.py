"""Every constraint of a contract at and across its boundary, through the one decision
function; ODRL out and back in; 50 concurrent clients spending one contract."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.authorization.test_requests import approved
from tests.conftest import auth, dataset_id, token_for
from yaosu.audit.models import AuditEntry
from yaosu.authorization.policy import Resource, decide
from yaosu.context import Context
from yaosu.kernel.actor import Actor

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 7, 1, tzinfo=UTC)
CONSUMER = Actor(id="u1", username="u1", org_id="org_consumer", org_kinds=frozenset({"consumer"}))


def terms(**overrides: Any) -> Resource:
    attrs: dict[str, Any] = {
        "providers": ["org_provider"],
        "status": "active",
        "starts_at": START,
        "ends_at": END,
        "operations": ["aggregate"],
        "datasets": {"ds_1": ["a", "b"]},
        "purpose": "public_welfare",
        "territory": "CN",
        "max_uses": 3,
        "uses": 0,
        "min_group_size": 10,
        "epsilon_budget": 1.0,
        "epsilon_spent": 0.0,
        "prohibitions": ["reidentify"],
    }
    return Resource("contract", "ctr_1", "org_consumer", attrs | overrides)


def use(resource: Resource, **context: Any) -> Any:
    base = {"operation": "aggregate", "dataset_id": "ds_1", "now": START + timedelta(days=1)}
    return decide(CONSUMER, "contract.use", resource, base | context)


@pytest.mark.parametrize(
    ("resource", "context", "allowed", "words"),
    [
        # time window: [starts_at, ends_at)
        (terms(), {"now": START}, True, ""),
        (terms(), {"now": START - timedelta(seconds=1)}, False, "not in force"),
        (terms(), {"now": END - timedelta(seconds=1)}, True, ""),
        (terms(), {"now": END}, False, "expired"),
        (terms(), {"now": END + timedelta(seconds=1)}, False, "expired"),
        # number of uses: uses + 1 <= max_uses
        (terms(uses=2), {}, True, ""),
        (terms(uses=3), {}, False, "no uses left"),
        (terms(max_uses=None, uses=10**6), {}, True, ""),
        # privacy budget: spent + epsilon <= budget
        (terms(epsilon_spent=0.5), {"epsilon": 0.5}, True, ""),
        (terms(epsilon_spent=0.5), {"epsilon": 0.5000001}, False, "privacy budget"),
        (terms(epsilon_budget=None), {"epsilon": 0.1}, False, "no differential-privacy budget"),
        (terms(epsilon_budget=None), {"epsilon": 0}, True, ""),
        # fields: a subset of the allowed ones
        (terms(), {"fields": ["a", "b"]}, True, ""),
        (terms(), {"fields": ["a", "c"]}, False, "fields c"),
        (terms(), {"fields": []}, True, ""),
        # operations, datasets, purpose, territory
        (terms(), {"operation": "extract"}, False, "does not permit extract"),
        (terms(), {"dataset_id": "ds_2"}, False, "does not cover dataset ds_2"),
        (terms(), {"purpose": "public_welfare"}, True, ""),
        (terms(), {"purpose": "commercial_marketing"}, False, "purpose"),
        (terms(), {"territory": "CN"}, True, ""),
        (terms(), {"territory": "SG"}, False, "territory"),
        # status
        (terms(status="suspended"), {}, False, "suspended"),
        (terms(status="revoked"), {}, False, "revoked"),
    ],
)
def test_each_constraint_at_and_across_its_boundary(
    resource: Resource, context: dict[str, Any], allowed: bool, words: str
) -> None:
    decision = use(resource, **context)
    assert decision.allowed is allowed, decision.reason
    assert words in decision.reason.render("en")
    assert decision.reason.render("zh-CN")  # always both languages


def test_an_allowed_use_carries_the_terms_to_enforce() -> None:
    resource = terms(masks={"ds_1": {"a": "hash"}}, row_filters={"ds_1": "b > 3"})
    decision = use(resource, epsilon=0.25, fields=["a"])
    assert decision.terms == {
        "contract": "ctr_1",
        "columns": ["a", "b"],
        "masks": {"a": "hash"},
        "row_filter": "b > 3",
        "min_group_size": 10,
        "charge": {"uses": 1, "epsilon": 0.25},
        "prohibitions": ["reidentify"],
    }
    assert "audit-access" in decision.obligations


def test_only_the_consumer_uses_a_contract() -> None:
    provider = Actor(
        id="u2", username="u2", org_id="org_provider", org_kinds=frozenset({"provider"})
    )
    assert not decide(
        provider, "contract.use", terms(), {"operation": "aggregate", "dataset_id": "ds_1"}
    ).allowed
    assert decide(provider, "contract.view", terms()).allowed
    token = Actor(
        id="u1",
        username="u1",
        org_id="org_consumer",
        org_kinds=frozenset({"consumer"}),
        scopes=frozenset({"write"}),
        via="token",
    )
    assert not decide(
        token, "contract.use", terms(), {"operation": "aggregate", "dataset_id": "ds_1"}
    ).allowed


# --- ODRL ----------------------------------------------------------------------------------


def test_masks_and_row_filters_from_reviewers_reach_the_contract_and_odrl(
    app_client: TestClient, ctx: Context
) -> None:
    from tests.authorization.test_requests import accepted, submitted

    residents = dataset_id(ctx, "参保人员")
    req = submitted(app_client, ctx)
    path = f"/api/v1/requests/{req['id']}/reviews"
    for bad, words in [
        ("(SELECT 1)", "subqueries"),
        ("lower(参保类型) = 'x'", "functions"),
        ("姓名 = '张三'", "姓名"),
        ("参保类型 = ", "parse"),
    ]:
        refused = app_client.post(
            path,
            json={
                "decision": "conditional",
                "reason": "限定范围",
                "conditions": {"row_filters": {residents: bad}},
            },
            headers={**auth(ctx, "cac-inspector"), "Accept-Language": "en"},
        )
        assert refused.status_code == 422 and words in refused.text, (bad, refused.text)
    app_client.post(
        path,
        json={
            "decision": "conditional",
            "reason": "乡镇字段哈希化",
            "conditions": {"masks": {residents: {"所属乡镇": "hash"}}},
        },
        headers=auth(ctx, "cac-inspector"),
    )
    done = app_client.post(
        path,
        json={
            "decision": "conditional",
            "reason": "只限正常参保",
            "conditions": {"row_filters": {residents: "参保类型 <> '暂停缴费'"}},
        },
        headers=auth(ctx, "bureau-reviewer"),
    ).json()
    contract = accepted(app_client, ctx, done["contract_id"])
    assert contract["masks"] == {residents: {"所属乡镇": "hash"}}
    assert contract["row_filters"] == {residents: "(参保类型 <> '暂停缴费')"}
    decision = app_client.post(
        f"/api/v1/contracts/{contract['id']}/decisions",
        json={"operation": "aggregate", "dataset_id": residents, "dry_run": True},
        headers=auth(ctx, "ai-analyst"),
    ).json()
    assert decision["terms"]["masks"] == {"所属乡镇": "hash"}
    assert decision["terms"]["row_filter"] == "(参保类型 <> '暂停缴费')"
    agreement = app_client.get(
        f"/api/v1/contracts/{contract['id']}/odrl", headers=auth(ctx, "ai-analyst")
    ).json()
    back = app_client.post(
        "/api/v1/contracts/odrl?mode=check&lang=en",
        json=agreement,
        headers=auth(ctx, "platform-admin"),
    ).json()
    assert back["masks"] == contract["masks"] and back["row_filters"] == contract["row_filters"]


def test_odrl_export_and_import_give_back_the_same_terms(
    app_client: TestClient, ctx: Context
) -> None:
    contract = approved(app_client, ctx, operations=["aggregate", "extract"])
    doc = app_client.get(
        f"/api/v1/contracts/{contract['id']}/odrl", headers=auth(ctx, "ai-analyst")
    )
    assert doc.headers["content-type"].startswith("application/ld+json")
    agreement = doc.json()
    assert agreement["@type"] == "Agreement" and agreement["profile"].endswith("/profile")
    assert {p["action"] for p in agreement["permission"]} == {"yaosu:aggregateQuery", "extract"}
    lefts = {c["leftOperand"] for c in agreement["permission"][0]["constraint"]}
    assert {"purpose", "dateTime", "count", "yaosu:epsilon", "yaosu:field"} <= lefts
    admin = auth(ctx, "platform-admin")
    checked = app_client.post("/api/v1/contracts/odrl?mode=check", json=agreement, headers=admin)
    assert checked.status_code == 200, checked.text
    back = checked.json()
    for key in (
        "datasets",
        "operations",
        "purpose",
        "max_uses",
        "epsilon_budget",
        "min_group_size",
        "territory",
        "prohibitions",
        "pricing",
        "starts_at",
        "ends_at",
    ):
        assert back[key] == contract[key], key
    created = app_client.post("/api/v1/contracts/odrl", json=agreement, headers=admin)
    assert created.status_code == 201 and created.json()["id"] != contract["id"]
    refused = app_client.post(
        "/api/v1/contracts/odrl", json=agreement, headers=auth(ctx, "bureau-admin")
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda a: a["permission"][0]["constraint"].append(
                {"leftOperand": "recipient", "operator": "eq", "rightOperand": "x"}
            ),
            "cannot enforce",
        ),
        (
            lambda a: [
                p.update(constraint=[c for c in p["constraint"] if c["leftOperand"] != "purpose"])
                for p in a["permission"]
            ],
            "purpose",
        ),
        (
            lambda a: [
                p.update(
                    constraint=[c for c in p["constraint"] if c["leftOperand"] != "yaosu:field"]
                )
                for p in a["permission"]
            ],
            "yaosu:field",
        ),
        (lambda a: a["permission"][0].update(action="sell"), "unsupported action"),
        (lambda a: a.update({"@type": "Offer"}), "Agreement"),
        (lambda a: a["permission"][0].update(target="urn:yaosu:dataset:ds_nope"), "ds_nope"),
    ],
)
def test_odrl_import_refuses_what_it_cannot_enforce(
    app_client: TestClient, ctx: Context, change: Any, words: str
) -> None:
    contract = approved(app_client, ctx)
    agreement = app_client.get(
        f"/api/v1/contracts/{contract['id']}/odrl", headers=auth(ctx, "ai-analyst")
    ).json()
    change(agreement)
    made = app_client.post(
        "/api/v1/contracts/odrl?mode=check&lang=en",
        json=agreement,
        headers=auth(ctx, "platform-admin"),
    )
    assert made.status_code == 422 and words in made.json()["error"]["message"], made.text


# --- purposes ------------------------------------------------------------------------------


def test_the_purpose_taxonomy_is_public_and_kept_by_the_platform(
    app_client: TestClient, ctx: Context
) -> None:
    listed = {p["code"]: p["pricing"] for p in app_client.get("/api/v1/purposes").json()}
    assert listed["public_governance"] == "free" and listed["commercial_marketing"] == "market"
    assert len(listed) == 6
    body = {
        "code": "x",
        "name_zh": "应急管理",
        "name_en": "Emergency management",
        "pricing": "free",
    }
    assert (
        app_client.put(
            "/api/v1/purposes/emergency", json=body, headers=auth(ctx, "bureau-admin")
        ).status_code
        == 403
    )
    made = app_client.put(
        "/api/v1/purposes/emergency", json=body, headers=auth(ctx, "platform-admin")
    )
    assert made.status_code == 200 and made.json()["code"] == "emergency"
    body["active"] = False
    app_client.put("/api/v1/purposes/emergency", json=body, headers=auth(ctx, "platform-admin"))
    assert "emergency" not in {p["code"] for p in app_client.get("/api/v1/purposes").json()}


# --- concurrency ---------------------------------------------------------------------------


def test_fifty_clients_never_overspend_one_contract(server: str, ctx: Context) -> None:
    """50 clients at once, each wanting one use at ε = 0.1 of a contract with 12 uses and
    ε = 1.0 left: exactly 10 pass (the budget binds first), never more, and the audit log
    holds every decision. (This test found two ways the server could hang under load: a
    denial audited on the event loop, and thread starvation while a lock holder waited for
    a thread to serialise its response.)"""
    clients = 50
    with httpx.Client(base_url=server, timeout=60) as http:
        client = _Api(http, ctx)
        contract = client.approved_contract(max_uses=12, epsilon=1.0)
    residents = dataset_id(ctx, "参保人员")
    token = token_for(ctx, "ai-analyst")
    results: list[int] = []
    barrier = threading.Barrier(clients)

    def one() -> None:
        with httpx.Client(base_url=server, timeout=120) as http:
            barrier.wait()
            r = http.post(
                f"/api/v1/contracts/{contract}/decisions",
                json={"operation": "aggregate", "dataset_id": residents, "epsilon": 0.1},
                headers={"Authorization": f"Bearer {token}"},
            )
            results.append(r.status_code)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert sorted(set(results)) == [200, 403] and len(results) == clients
    assert results.count(200) == 10
    with ctx.db.transaction() as session:
        from yaosu.authorization.models import Contract

        row = session.get(Contract, contract)
        assert row is not None and row.uses == 10 and abs(row.epsilon_spent - 1.0) < 1e-9
        logged = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "contract.use", AuditEntry.object_id == contract)
        )
    assert logged == clients


class _Api:
    def __init__(self, http: httpx.Client, ctx: Context) -> None:
        self.http, self.ctx = http, ctx

    def approved_contract(self, **overrides: Any) -> str:
        from tests.authorization.test_requests import accepted, ask

        made = self.http.post(
            "/api/v1/requests",
            json=ask(self.ctx, **overrides),
            headers=auth(self.ctx, "ai-analyst"),
        ).json()
        for reviewer in ("cac-inspector", "bureau-reviewer"):
            done = self.http.post(
                f"/api/v1/requests/{made['id']}/reviews",
                json={"decision": "approve", "reason": "同意"},
                headers=auth(self.ctx, reviewer),
            ).json()
        return str(accepted(self.http, self.ctx, done["contract_id"])["id"])
