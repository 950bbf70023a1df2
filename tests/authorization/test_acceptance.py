"""Both parties accept a contract: the last approval makes it offered (each provider's
acceptance is its approving review), the data user's admin accepts (it comes into force, its
term starting then) or declines (it never does). Every answer and every refusal is audited
once; a contract not in force cannot be used."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.authorization.test_requests import ask
from tests.conftest import actor, auth, dataset_id, demo_contract_id
from yaosu.accounts import service as accounts
from yaosu.audit.models import AuditEntry
from yaosu.authorization import service as authorization
from yaosu.authorization.models import Contract
from yaosu.authorization.schemas import RequestCreate
from yaosu.context import Context
from yaosu.kernel.errors import Forbidden, IllegalTransition, InvalidInput, NotFound


def offered(ctx: Context, requester: str = "ai-analyst", **overrides: Any) -> str:
    """A contract made by every review approving, not yet accepted."""
    who = actor(ctx, requester)
    reviewers = [actor(ctx, r) for r in ("cac-inspector", "bureau-reviewer")]
    body = RequestCreate.model_validate(ask(ctx, **overrides))
    with ctx.db.transaction() as session:
        req = authorization.submit_request(session, who, settings=ctx.settings, data=body)
        for reviewer in reviewers:
            done = authorization.review(
                session,
                reviewer,
                settings=ctx.settings,
                request_id=req.id,
                decision="approve",
                reason="用途正当",
            )
        assert done.contract_id is not None
        return done.contract_id


def entries(ctx: Context, contract_id: str, action: str, decision: str = "allow") -> int:
    with ctx.db.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.object_id == contract_id,
                AuditEntry.action == action,
                AuditEntry.decision == decision,
            )
        )


def test_the_last_approval_offers_the_contract_and_the_data_users_admin_accepts_it(
    ctx: Context,
) -> None:
    contract_id = offered(ctx)
    reviewer, analyst = actor(ctx, "bureau-reviewer"), actor(ctx, "ai-analyst")
    with ctx.db.transaction() as session:
        c = authorization.get_contract(session, analyst, contract_id=contract_id)
        assert c.status == "offered" and authorization.status_of(c) == "offered"
        assert c.accepted_by is None and c.accepted_at is None
        # the provider accepted by approving: its reviewer, at its review's time
        [provider] = c.provider_acceptances
        assert provider["org"] == reviewer.org_id and provider["by"] == reviewer.id
        offered_term = c.ends_at - c.starts_at
        waiting = authorization.list_contracts(session, analyst, awaiting=True)
        assert contract_id in [w.id for w in waiting]
        assert authorization.list_contracts(session, reviewer, awaiting=True) == []
    with ctx.db.transaction() as session:
        c = authorization.accept(session, analyst, contract_id=contract_id)
        assert c.status == "active" and c.accepted_by == analyst.id
        assert c.accepted_at is not None and c.starts_at == c.accepted_at
        assert c.ends_at - c.starts_at == offered_term  # the term starts at the acceptance
    assert entries(ctx, contract_id, "contract.accept") == 1
    with ctx.db.transaction() as session:
        assert authorization.list_contracts(session, analyst, awaiting=True) == []


def test_accepting_twice_or_after_declining_is_an_illegal_move(ctx: Context) -> None:
    analyst = actor(ctx, "ai-analyst")
    accepted_id, declined_id = offered(ctx), offered(ctx)
    with ctx.db.transaction() as session:
        authorization.accept(session, analyst, contract_id=accepted_id)
    with pytest.raises(IllegalTransition), ctx.db.transaction() as session:
        authorization.accept(session, analyst, contract_id=accepted_id)
    with pytest.raises(IllegalTransition), ctx.db.transaction() as session:
        authorization.decline(session, analyst, contract_id=accepted_id, reason="改变主意")
    with pytest.raises(InvalidInput), ctx.db.transaction() as session:
        authorization.decline(session, analyst, contract_id=declined_id, reason=" ")
    with ctx.db.transaction() as session:
        c = authorization.decline(session, analyst, contract_id=declined_id, reason="期限过短")
        assert c.status == "declined" and c.status_reason == "期限过短" and c.accepted_at is None
    with pytest.raises(IllegalTransition), ctx.db.transaction() as session:
        authorization.accept(session, analyst, contract_id=declined_id)
    assert entries(ctx, accepted_id, "contract.accept") == 1
    assert entries(ctx, declined_id, "contract.decline") == 1
    assert entries(ctx, declined_id, "contract.accept") == 0


def test_only_the_data_users_admin_accepts(ctx: Context, app_client: TestClient) -> None:
    contract_id = offered(ctx)
    ai_admin = actor(ctx, "ai-analyst")
    with ctx.db.transaction() as session:  # a member of the data user, not its admin
        accounts.create_user(
            session,
            ai_admin,
            org_id=ai_admin.org_id,
            username="ai-member",
            password="a-long-password-2026",
            role="member",
            display_name="智谷数据员",
        )
    for username, error in (
        ("bureau-admin", Forbidden),  # the provider sees it, but does not answer for the user
        ("cac-inspector", Forbidden),
        ("ai-member", Forbidden),
        ("coop-manager", NotFound),  # another organisation does not even see it
    ):
        who = actor(ctx, username)
        with pytest.raises(error), ctx.db.transaction() as session:
            authorization.accept(session, who, contract_id=contract_id)
    # through the API: each refusal is one deny entry, and the contract stays offered
    path = f"/api/v1/contracts/{contract_id}/acceptance"
    body = {"decision": "accept"}
    wrong = app_client.post(path, json=body, headers=auth(ctx, "bureau-admin"))
    assert wrong.status_code == 403 and "数据使用方" in wrong.json()["error"]["message"]
    member = app_client.post(path, json=body, headers=auth(ctx, "ai-member"))
    assert member.status_code == 403 and "管理员" in member.json()["error"]["message"]
    hidden = app_client.post(path, json=body, headers=auth(ctx, "coop-manager"))
    assert hidden.status_code == 404
    assert entries(ctx, contract_id, "contract.accept", "deny") == 2
    assert entries(ctx, contract_id, "contract.view", "deny") == 1
    with ctx.db.transaction() as session:
        assert session.get(Contract, contract_id).status == "offered"  # type: ignore[union-attr]
    done = app_client.post(path, json=body, headers=auth(ctx, "ai-analyst"))
    assert done.status_code == 200 and done.json()["status"] == "active"
    assert done.json()["accepted_by"] == actor(ctx, "ai-analyst").id
    again = app_client.post(path, json=body, headers=auth(ctx, "ai-analyst"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "ILLEGAL_TRANSITION"
    assert entries(ctx, contract_id, "contract.accept") == 1


def test_a_contract_not_in_force_cannot_be_used(ctx: Context, app_client: TestClient) -> None:
    residents = dataset_id(ctx, "参保人员")
    contract_id = offered(ctx)
    path = f"/api/v1/contracts/{contract_id}/decisions"
    use = {"operation": "aggregate", "dataset_id": residents, "fields": ["所属乡镇"]}
    headers = auth(ctx, "ai-analyst")
    early = app_client.post(path, json=use, headers=headers)
    assert early.status_code == 403
    assert "尚未生效" in early.json()["error"]["message"]
    assert "双方接受" in early.json()["error"]["message"]  # the clause is named
    english = app_client.post(path, json=use, headers={**headers, "Accept-Language": "en"})
    assert "acceptance clause" in english.json()["error"]["message"]
    assert entries(ctx, contract_id, "contract.use", "deny") == 2  # once per refusal
    with ctx.db.transaction() as session:
        c = session.get(Contract, contract_id)
        assert c is not None and c.uses == 0 and c.epsilon_spent == 0
    # declined: never in force
    declined = offered(ctx)
    app_client.post(
        f"/api/v1/contracts/{declined}/acceptance",
        json={"decision": "decline", "reason": "不再需要"},
        headers=headers,
    )
    refused = app_client.post(f"/api/v1/contracts/{declined}/decisions", json=use, headers=headers)
    assert refused.status_code == 403 and "拒绝" in refused.json()["error"]["message"]
    # accepted: in force
    app_client.post(
        f"/api/v1/contracts/{contract_id}/acceptance", json={"decision": "accept"}, headers=headers
    )
    assert app_client.post(path, json=use, headers=headers).status_code == 200


def test_declining_needs_a_reason_and_an_offer_can_be_revoked(
    ctx: Context, app_client: TestClient
) -> None:
    contract_id = offered(ctx)
    path = f"/api/v1/contracts/{contract_id}/acceptance"
    headers = auth(ctx, "ai-analyst")
    bare = app_client.post(path, json={"decision": "decline"}, headers=headers)
    assert bare.status_code == 422 and "理由" in bare.json()["error"]["message"]
    assert app_client.post(path, json={"decision": "maybe"}, headers=headers).status_code == 422
    # a provider's admin may withdraw an offer before it is accepted; suspending it is no move
    status = f"/api/v1/contracts/{contract_id}/status"
    bureau = auth(ctx, "bureau-admin")
    suspend = app_client.post(status, json={"action": "suspend", "reason": "核查"}, headers=bureau)
    assert suspend.status_code == 409
    revoked = app_client.post(status, json={"action": "revoke", "reason": "撤回"}, headers=bureau)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert app_client.post(path, json={"decision": "accept"}, headers=headers).status_code == 409


def test_the_odrl_export_is_an_offer_until_accepted_and_carries_both_acceptances(
    ctx: Context, app_client: TestClient
) -> None:
    contract_id = offered(ctx)
    headers = auth(ctx, "ai-analyst")
    path = f"/api/v1/contracts/{contract_id}/odrl"
    offer = app_client.get(path, headers=headers).json()
    assert offer["@type"] == "Offer"
    assert "yaosu:acceptedAt" not in offer["assignee"]
    reviewer = actor(ctx, "bureau-reviewer")
    [assigner] = offer["assigner"]
    assert assigner["yaosu:acceptedBy"] == f"urn:yaosu:user:{reviewer.id}"
    assert assigner["yaosu:acceptedAt"]["@type"] == "xsd:dateTime"
    done = app_client.post(
        f"/api/v1/contracts/{contract_id}/acceptance", json={"decision": "accept"}, headers=headers
    ).json()
    agreement = app_client.get(path, headers=headers).json()
    assert agreement["@type"] == "Agreement"
    assignee = agreement["assignee"]
    assert assignee["yaosu:acceptedBy"] == f"urn:yaosu:user:{actor(ctx, 'ai-analyst').id}"
    accepted_at = assignee["yaosu:acceptedAt"]["@value"]
    assert accepted_at.replace("Z", "+00:00") == done["accepted_at"].replace("Z", "+00:00")
    # imported back, the Agreement keeps when each party accepted (not who: another platform's)
    back = app_client.post(
        "/api/v1/contracts/odrl?mode=check", json=agreement, headers=auth(ctx, "platform-admin")
    ).json()
    assert back["status"] == "active" and back["accepted_by"] is None
    assert back["accepted_at"].replace("Z", "+00:00") == done["accepted_at"].replace("Z", "+00:00")
    assert back["provider_acceptances"][0]["at"] is not None


def test_the_cli_accepts_for_the_data_user(ctx: Context) -> None:
    from tests.test_cli import run

    contract_id = offered(ctx)
    ctx.db.dispose()
    done = run(ctx, "contracts", "accept", contract_id)
    assert done.returncode == 0, done.stderr
    again = run(ctx, "contracts", "accept", contract_id)
    assert again.returncode != 0 and "Traceback" not in again.stderr
    declined = offered(ctx)
    ctx.db.dispose()
    assert run(ctx, "contracts", "decline", declined, "--reason", "不再需要").returncode == 0
    with ctx.db.transaction() as session:
        assert session.get(Contract, contract_id).status == "active"  # type: ignore[union-attr]
        assert session.get(Contract, declined).status == "declined"  # type: ignore[union-attr]
    assert entries(ctx, contract_id, "contract.accept") == 1


def test_contracts_in_force_before_acceptance_stay_in_force(ctx: Context) -> None:
    """Migration 0013: a contract made before both parties had to accept is backfilled as
    accepted when it was made (by its requester; each provider by its approving review)."""
    from alembic import command

    from yaosu.kernel.db import alembic_config

    contract_id = offered(ctx)
    with ctx.db.transaction() as session:
        demo = session.get(Contract, demo_contract_id(session))
        assert demo is not None
        demo_id, demo_start, demo_providers = demo.id, demo.starts_at, demo.provider_acceptances
    config = alembic_config(ctx.db.engine)
    command.downgrade(config, "0011")  # an offer cannot be said there: it is revoked
    command.upgrade(config, "head")
    ctx.db.dispose()
    coop = actor(ctx, "coop-manager")
    with ctx.db.transaction() as session:
        demo = session.get(Contract, demo_id)
        assert demo is not None and demo.status == "active"
        assert demo.accepted_at == demo_start and demo.accepted_by == coop.id
        assert demo.provider_acceptances == demo_providers  # rebuilt from the reviews
        offer = session.get(Contract, contract_id)
        assert offer is not None and offer.status == "revoked"
    residents = dataset_id(ctx, "参保人员")
    with ctx.db.transaction() as session:
        decision, _ = authorization.use(
            session,
            coop,
            contract_id=demo_id,
            operation="aggregate",
            dataset_id=residents,
            fields=["所属乡镇"],
            epsilon=0.1,
            dry_run=True,
        )
        assert decision.allowed  # still in force
