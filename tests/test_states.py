"""Every state machine refuses every move its table does not allow, with one error
(IllegalTransition, 409): through the helper for each (state, target) pair, and through a real
service call per machine."""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.authorization.test_requests import approved, submitted
from tests.conftest import auth
from tests.rights.test_registration import (
    ADMIN,
    _org,
    apply,
    end_notice,
    registered,
    through_notice,
)
from yaosu.authorization.states import (
    CONTRACT_MOVES,
    REQUEST_MOVES,
    REVIEW_MOVES,
    ContractState,
    RequestState,
    ReviewState,
)
from yaosu.context import Context
from yaosu.kernel.errors import IllegalTransition
from yaosu.kernel.i18n import label
from yaosu.kernel.states import Moves, label_kind, transition
from yaosu.market.states import (
    LISTING_MOVES,
    LISTING_REVIEW_MOVES,
    NEGOTIATION_MOVES,
    PERIOD_MOVES,
    ListingReviewState,
    ListingState,
    NegotiationState,
    PeriodState,
)
from yaosu.rights.states import (
    GRANT_MOVES,
    OBJECTION_MOVES,
    REGISTRATION_MOVES,
    GrantState,
    ObjectionState,
    RegistrationState,
)

MACHINES: list[tuple[type[StrEnum], Moves[Any]]] = [
    (RequestState, REQUEST_MOVES),
    (ReviewState, REVIEW_MOVES),
    (ContractState, CONTRACT_MOVES),
    (RegistrationState, REGISTRATION_MOVES),
    (ObjectionState, OBJECTION_MOVES),
    (GrantState, GRANT_MOVES),
    (ListingState, LISTING_MOVES),
    (ListingReviewState, LISTING_REVIEW_MOVES),
    (NegotiationState, NEGOTIATION_MOVES),
    (PeriodState, PERIOD_MOVES),
]
PAIRS = [
    (states, table, current, target)
    for states, table in MACHINES
    for current in states
    for target in states
]


def _id(value: Any) -> str | None:
    if isinstance(value, type):
        return value.__name__
    return str(value) if isinstance(value, str) else None


@pytest.mark.parametrize(("states", "table", "current", "target"), PAIRS, ids=_id)
def test_the_helper_allows_exactly_the_tables_moves(
    states: type[StrEnum], table: Moves[Any], current: StrEnum, target: StrEnum
) -> None:
    stored = str(current)  # as read back from the database: a plain string
    if target in table.get(current, frozenset()):
        assert transition(table, stored, target, what="Thing", id="t1") is target
        return
    with pytest.raises(IllegalTransition) as refused:
        transition(table, stored, target, what="Thing", id="t1")
    error = refused.value
    assert error.status == 409 and error.code == "ILLEGAL_TRANSITION"
    assert error.detail["from"] == current and error.detail["to"] == target
    kind = label_kind(states)
    state, becomes = label(kind, current).render("en"), label(kind, target).render("en")
    assert error.message("en") == f"Thing t1 is {state}; it cannot become {becomes}."


@pytest.mark.parametrize(("states", "table"), MACHINES, ids=_id)
def test_each_table_speaks_of_its_own_states(states: type[StrEnum], table: Moves[Any]) -> None:
    # names equal values: a stored string finds its member, its label and its dict entries
    assert all(member.name == member.value for member in states)
    assert all(isinstance(s, states) for s in table)
    assert all(isinstance(t, states) for targets in table.values() for t in targets)
    assert label_kind(states).endswith("_state")
    with pytest.raises(IllegalTransition):  # a string that is no state moves nowhere
        transition(table, "bogus", next(iter(states)), what="Thing", id="t1")


def _refused(answer: Any, current: str, target: str) -> None:
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "ILLEGAL_TRANSITION", error
    assert error["detail"]["from"] == current and error["detail"]["to"] == target


def test_a_request_that_ended_cannot_end_again(app_client: TestClient, ctx: Context) -> None:
    req = submitted(app_client, ctx)
    path = f"/api/v1/requests/{req['id']}/withdraw"
    analyst = auth(ctx, "ai-analyst")
    assert app_client.post(path, headers=analyst).json()["status"] == "withdrawn"
    _refused(app_client.post(path, headers=analyst), "withdrawn", "withdrawn")
    # and in the reader's language, with the request named
    again = app_client.post(path, headers=analyst | {"Accept-Language": "zh-CN"})
    assert req["id"] in again.json()["error"]["message"] and "授权申请" in again.text


def test_requests_are_listed_by_a_state_the_schema_names(
    app_client: TestClient, ctx: Context
) -> None:
    analyst = auth(ctx, "ai-analyst")
    req = submitted(app_client, ctx)
    listed = app_client.get("/api/v1/requests?status=submitted", headers=analyst).json()
    assert req["id"] in [r["id"] for r in listed["items"]]
    assert app_client.get("/api/v1/requests?status=bogus", headers=analyst).status_code == 422
    param = next(
        p
        for p in app_client.get("/openapi.json").json()["paths"]["/api/v1/requests"]["get"][
            "parameters"
        ]
        if p["name"] == "status"
    )
    assert "RequestState" in str(param["schema"])  # the states are listed, not a free string


def test_a_review_is_made_once(app_client: TestClient, ctx: Context) -> None:
    req = submitted(app_client, ctx)
    path = f"/api/v1/requests/{req['id']}/reviews"
    body = {"decision": "approve", "reason": "用途正当"}
    cac = auth(ctx, "cac-inspector")
    assert app_client.post(path, json=body, headers=cac).status_code == 200
    again = app_client.post(path, json={**body, "decision": "reject"}, headers=cac)
    _refused(again, "approved", "rejected")


def test_a_contract_moves_only_along_its_table(app_client: TestClient, ctx: Context) -> None:
    contract = approved(app_client, ctx)
    path = f"/api/v1/contracts/{contract['id']}/status"
    admin = auth(ctx, "platform-admin")

    def change(action: str) -> Any:
        return app_client.post(path, json={"action": action, "reason": "核查"}, headers=admin)

    _refused(change("resume"), "active", "active")
    assert change("revoke").json()["status"] == "revoked"
    for action, target in (("suspend", "suspended"), ("resume", "active"), ("revoke", "revoked")):
        _refused(change(action), "revoked", target)


def test_a_registration_takes_each_step_once_and_in_order(
    app_client: TestClient, ctx: Context
) -> None:
    reg = apply(app_client, ctx).json()["id"]
    path = f"/api/v1/registrations/{reg}/steps"
    admin = auth(ctx, ADMIN)
    _refused(
        app_client.post(path, json={"action": "pass", "note": "齐全"}, headers=admin),
        "applied",
        "in_notice",
    )
    through_notice(app_client, ctx, reg)
    _refused(
        app_client.post(path, json={"action": "accept"}, headers=admin), "in_notice", "accepted"
    )
    # the table lets a registration in notice be rejected (an upheld objection), but a formal
    # review rejects only what it accepted
    fail = app_client.post(path, json={"action": "fail", "note": "材料不全"}, headers=admin)
    _refused(fail, "in_notice", "rejected")


def test_an_objection_is_resolved_once(app_client: TestClient, ctx: Context) -> None:
    reg = apply(app_client, ctx).json()["id"]
    through_notice(app_client, ctx, reg)
    objection = app_client.post(
        f"/api/v1/registrations/{reg}/objections",
        json={"reason": "部分数据由本社采集"},
        headers=auth(ctx, "coop-manager"),
    ).json()
    path = f"/api/v1/objections/{objection['id']}/resolution"
    body = {"upheld": False, "resolution": "经核实，数据由市数据局统一归集"}
    assert app_client.post(path, json=body, headers=auth(ctx, ADMIN)).status_code == 200
    again = app_client.post(path, json={**body, "upheld": True}, headers=auth(ctx, ADMIN))
    _refused(again, "dismissed", "upheld")


def test_a_right_is_transferred_once(app_client: TestClient, ctx: Context) -> None:
    """Defect: two transfers of one right, applied for while it was active, were both
    registered: the transferor's right went 'transferred' twice and two organisations held
    it. The second registration is now refused and its right stays pending."""
    parent = registered(app_client, ctx)["registration"]["grant_id"]
    transfers = []
    for username in ("ai-analyst", "coop-manager"):
        made = apply(
            app_client,
            ctx,
            kind="holding",
            parent_id=parent,
            holder_org_id=_org(app_client, ctx, username),
            transfer=True,
            years=1,
            statement="依协议转让持有权",
        )
        assert made.status_code == 201, made.text
        through_notice(app_client, ctx, made.json()["id"])
        end_notice(ctx, made.json()["id"])
        transfers.append(made.json())
    admin = auth(ctx, ADMIN)
    first, second = (
        app_client.post(f"/api/v1/registrations/{t['id']}/certificate", headers=admin)
        for t in transfers
    )
    assert first.status_code == 201, first.text
    _refused(second, "transferred", "transferred")
    rights = {g["id"]: g["status"] for g in app_client.get("/api/v1/rights", headers=admin).json()}
    assert rights[parent] == "transferred"
    assert rights[transfers[0]["grant_id"]] == "active"
    assert rights[transfers[1]["grant_id"]] == "pending"
    reg = app_client.get(f"/api/v1/registrations/{transfers[1]['id']}", headers=admin).json()
    assert reg["status"] == "in_notice" and reg["code"] is None


def test_no_state_is_assigned_around_the_tables() -> None:
    """In the domains with state machines, ``x.status = ...`` takes what ``transition`` (or a
    helper over it) returned: never a literal string or an enum member written in place."""
    src = Path(__file__).resolve().parents[1] / "src" / "yaosu"
    bypasses = []
    for path in sorted([*(src / "authorization").rglob("*.py"), *(src / "rights").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                pairs = (
                    zip(target.elts, node.value.elts, strict=False)
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                    else [(target, node.value)]
                )
                for left, right in pairs:
                    if (
                        isinstance(left, ast.Attribute)
                        and left.attr == "status"
                        and isinstance(right, ast.Constant | ast.Attribute | ast.Subscript)
                    ):
                        bypasses.append(f"{path.relative_to(src)}:{node.lineno}")
    assert bypasses == []
