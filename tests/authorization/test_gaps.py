"""Authorisation and audit gaps found by an attacker's run (issue 11, section 7): spending
is a write, extract downloads and rights and screen reports are decided by decide(), opening
data is the provider admin's act (audited, reported to the 数据局), a refused background job
is audited, and nothing behind a login is cached."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.authorization.test_matrix import cases, world
from tests.conftest import actor, auth, dataset_id, token_for
from yaosu.audit.models import AuditEntry
from yaosu.authorization.models import AccessRequest, Contract
from yaosu.authorization.policy import SCOPE_OF
from yaosu.context import Context
from yaosu.kernel.tasks.models import Task
from yaosu.privacy.models import Screen
from yaosu.tasks import service as tasks

# Actions that change nothing and spend nothing: the only ones a read token may take.
READ_ONLY = {
    "dataset.view",
    "dataset.read",
    "org.view",
    "audit.view",
    "job.view",
    "request.view",
    "contract.view",
    "registration.view",
    "right.view",
    "screen.view",
    "dataset.profile",  # what of a profile a viewer may see
    "extract.download",  # the extract was made (and its use spent) by a write
    "product.view",
    "negotiation.view",
    "period.view",
    "ledger.view",
    "order.view",
    "share.view",  # a statement is read (and audited as a view)
    "lineage.view",
    "algorithm.view",  # a filing and the public register
    "algorithm.trusted",  # a dataset's trusted list
    "compute.view",
    "compute.download",  # the job ran (and its use was spent) by a write
    "ethics.committee.view",  # committees are registered publicly
    "ethics.view",
    "ledger.reconcile",  # a check of the ledger against itself and the bank: it writes nothing
    # what the console offers: navigation and home page sections
    "requests.read",
    "reviews.read",
    "home.datasets",
    "home.usable",
    "home.openings",
    "home.oversight",
    "home.health",
}


def _denials(ctx: Context, action: str) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.decision == "deny")
        )


def test_only_actions_that_change_nothing_need_just_the_read_scope() -> None:
    reads = {a for a, scope in SCOPE_OF.items() if scope == "read"}
    assert reads == READ_ONLY
    assert SCOPE_OF["contract.use"] == "write"


# Unsafe routes that write nothing a read token could abuse: a pure check, leaving, and a
# token's own tokens (never wider than itself; revoking only narrows).
NOT_WRITES = {
    ("POST", "/api/v1/certificates/verify"),
    ("POST", "/api/v1/market/certificates/verify"),  # a check of a file against the keys
    ("POST", "/api/v1/queries/estimate"),  # a forecast: nothing run, spent or kept
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{token_id}"),
}


def test_a_read_token_changes_and_spends_nothing_on_any_route(
    app_client: TestClient, ctx: Context
) -> None:
    """Every unsafe API route, asked with a read-only token by a role it allows, is refused
    for the missing scope; the contracts' uses and budgets are untouched."""
    from tests.authorization.test_matrix import USERS, _token_id

    w = world(ctx)
    w["token"] = _token_id(ctx, "bureau-admin")
    odrl = app_client.get(
        f"/api/v1/contracts/{w['contract']}/odrl", headers=auth(ctx, "coop-manager")
    ).json()
    checkpoint = app_client.get("/api/v1/audit/checkpoints/latest").json()["size"]
    readers = {u: {"Authorization": f"Bearer {token_for(ctx, u, ('read',))}"} for u in USERS}

    def spent() -> list[tuple[str, int, float]]:
        with ctx.db.transaction() as session:
            return [
                (c.id, c.uses, c.epsilon_spent)
                for c in session.scalars(select(Contract).order_by(Contract.id))
            ]

    before, wrong, checked = spent(), [], 0
    for case in cases(w, odrl, checkpoint, checkpoint):
        if case.method == "GET" or (case.method, case.route) in NOT_WRITES:
            continue
        role = sorted(case.allowed)[0] if case.allowed else None
        if role is None or role == "anonymous":
            continue
        body = case.body(role) if callable(case.body) else case.body
        kw: dict[str, Any] = {"headers": readers[role]}
        if isinstance(body, bytes):
            kw["content"] = body
        elif body is not None:
            kw["json"] = body
        got = app_client.request(case.method, case.path, **kw)
        checked += 1
        code = got.json().get("error", {}).get("code") if got.status_code >= 400 else None
        if got.status_code != 403 or code != "SCOPE_MISSING":
            wrong.append(f"{case.method} {case.route} as {role}: {got.status_code} {code}")
    assert wrong == [], "\n".join(wrong)
    assert checked >= 25
    assert spent() == before


def test_a_read_token_cannot_query_or_extract(app_client: TestClient, ctx: Context) -> None:
    w = world(ctx)
    with ctx.db.transaction() as session:
        uses = session.get(Contract, w["contract"]).uses  # type: ignore[union-attr]
    reader = auth(ctx, "coop-manager", ("read",))
    query = app_client.post(
        "/api/v1/queries",
        json={
            "contract_id": w["contract"],
            "sql": f"SELECT COUNT(*) AS n FROM {w['res']}",
            "epsilon": 0.1,
        },
        headers=reader,
    )
    assert query.status_code == 403 and query.json()["error"]["code"] == "SCOPE_MISSING"
    extract = app_client.post(
        f"/api/v1/contracts/{w['extract_contract']}/extracts",
        json={"dataset_id": w["res"]},
        headers=auth(ctx, "ai-analyst", ("read",)),
    )
    assert extract.status_code == 403 and extract.json()["error"]["code"] == "SCOPE_MISSING"
    with ctx.db.transaction() as session:
        assert session.get(Contract, w["contract"]).uses == uses  # type: ignore[union-attr]


def test_an_extract_download_is_decided_and_its_refusal_audited(
    app_client: TestClient, ctx: Context
) -> None:
    w = world(ctx)
    assert "extract.download" in SCOPE_OF
    start = _denials(ctx, "extract.download")
    provider = app_client.get(
        f"/api/v1/extracts/{w['extract']}/file", headers=auth(ctx, "bureau-admin")
    )
    assert provider.status_code == 403 and "使用方" in provider.json()["error"]["message"]
    assert _denials(ctx, "extract.download") == start + 1
    mine = app_client.get(f"/api/v1/extracts/{w['extract']}/file", headers=auth(ctx, "ai-analyst"))
    assert mine.status_code == 200 and mine.content[:4] == b"PAR1"


def test_a_right_under_registration_is_only_its_parties(
    app_client: TestClient, ctx: Context
) -> None:
    from yaosu.rights import service as rights

    admin = actor(ctx, "bureau-admin")
    with ctx.db.transaction() as session:
        reg = rights.apply(
            session,
            admin,
            settings=ctx.settings,
            kind="holding",
            dataset_id=dataset_id(ctx, "参保人员"),
            statement="尚未受理的原始登记",
        )
        grant = reg.grant_id
    chain = f"/api/v1/rights/{grant}/chain"
    assert app_client.get(chain).status_code == 404
    assert app_client.get(chain, headers=auth(ctx, "coop-manager")).status_code == 404
    assert app_client.get(chain, headers=auth(ctx, "bureau-analyst")).status_code == 200
    assert app_client.get(chain, headers=auth(ctx, "platform-admin")).status_code == 200
    listed = app_client.get("/api/v1/rights", headers=auth(ctx, "coop-manager")).json()
    assert grant not in {g["id"] for g in listed}
    assert grant in {
        g["id"]
        for g in app_client.get("/api/v1/rights", headers=auth(ctx, "bureau-analyst")).json()
    }
    # in public notice it is everyone's to see (and object to)
    platform = actor(ctx, "platform-admin")
    with ctx.db.transaction() as session:
        rights.accept(session, platform, settings=ctx.settings, registration_id=reg.id, note="受理")
        rights.formal_review(
            session,
            platform,
            settings=ctx.settings,
            registration_id=reg.id,
            passed=True,
            note="通过",
        )
    assert app_client.get(chain).status_code == 200


def test_the_reviewers_who_read_a_screen_are_told_by_authorization(
    app_client: TestClient, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Privacy sits below authorization, so authorization registers who reviews a request for
    a dataset (issue 12 cut the import the other way). Without that registration the routed
    reviewer is refused, not let through: the rule fails closed."""
    from yaosu.authorization.service import reviewing_orgs
    from yaosu.privacy import screening

    assert reviewing_orgs in screening._REVIEWERS
    res = dataset_id(ctx, "参保人员")
    with ctx.db.transaction() as session:
        screen = session.scalar(select(Screen.id).where(Screen.dataset_id == res))
    cac = auth(ctx, "cac-inspector")
    assert app_client.get(f"/api/v1/screens/{screen}", headers=cac).status_code == 200
    monkeypatch.setattr(screening, "_REVIEWERS", [])
    assert app_client.get(f"/api/v1/screens/{screen}", headers=cac).status_code == 403


def test_a_routed_reviewer_reads_the_screen_of_what_it_judges(
    app_client: TestClient, ctx: Context
) -> None:
    res = dataset_id(ctx, "参保人员")
    with ctx.db.transaction() as session:
        pending = session.scalar(
            select(AccessRequest.id).where(AccessRequest.status == "submitted")
        )
        screen = session.scalar(select(Screen.id).where(Screen.dataset_id == res))
    cac, dsj, coop = (auth(ctx, u) for u in ("cac-inspector", "dsj-inspector", "coop-manager"))
    assert app_client.get(f"/api/v1/datasets/{res}/screens", headers=cac).status_code == 200
    assert app_client.get(f"/api/v1/screens/{screen}", headers=cac).status_code == 200
    # not routed: the 数据局 (the data is not important), and the requester itself
    assert app_client.get(f"/api/v1/datasets/{res}/screens", headers=dsj).status_code == 403
    assert app_client.get(f"/api/v1/screens/{screen}", headers=coop).status_code == 403
    # the console page too
    from tests.console.test_pages import login

    login(app_client, "cac-inspector")
    page = app_client.get(f"/datasets/{res}/privacy")
    assert page.status_code == 200
    # once its review is given, the reason to read is gone
    review = app_client.post(
        f"/api/v1/requests/{pending}/reviews",
        json={"decision": "approve", "reason": "同意"},
        headers=cac,
    )
    assert review.status_code == 200, review.text
    assert app_client.get(f"/api/v1/datasets/{res}/screens", headers=cac).status_code == 403


def test_opening_data_needs_the_providers_admin_and_reports_important_data(
    app_client: TestClient, ctx: Context
) -> None:
    from yaosu.privacy import service as privacy

    closed = dataset_id(ctx, "用电量")
    reviewer = actor(ctx, "bureau-reviewer")
    with ctx.db.transaction() as session:  # the reviewer confirms it clean, graded important
        screen = session.scalars(
            select(Screen).where(Screen.dataset_id == closed).order_by(Screen.created_at.desc())
        ).first()
        assert screen is not None
        privacy.review(
            session,
            reviewer,
            screen_id=screen.id,
            personal=False,
            grade="important",
            note="企业用电属重要数据",
        )
    url = f"/api/v1/datasets/{closed}"
    for member, body in (
        ("bureau-analyst", {"openness": "open"}),
        ("bureau-analyst", {"openness": "conditional"}),
    ):
        refused = app_client.patch(url, json=body, headers=auth(ctx, member))
        assert refused.status_code == 403 and "管理员" in refused.json()["error"]["message"]
    assert app_client.get(url, headers=auth(ctx, "bureau-admin")).json()["openness"] == "closed"
    # a member may still edit what does not widen it
    kept = app_client.patch(url, json={"keywords": ["用电"]}, headers=auth(ctx, "bureau-analyst"))
    assert kept.status_code == 200
    opened = app_client.patch(url, json={"openness": "open"}, headers=auth(ctx, "bureau-admin"))
    assert opened.status_code == 200 and opened.json()["openness"] == "open"
    with ctx.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "dataset.open", AuditEntry.object_id == closed
            )
        ).one()
    assert entry.detail["openness_from"] == "closed" and entry.detail["openness_to"] == "open"
    assert entry.detail["grade"] == "important" and entry.detail["notify"] == ["数据局"]
    from tests.console.test_pages import login

    login(app_client, "dsj-inspector")
    home = app_client.get("/home")
    assert 'id="openings"' in home.text and "用电量" in home.text
    app_client.cookies.clear()
    login(app_client, "cac-inspector")
    assert 'id="openings"' not in app_client.get("/home").text


def test_a_refused_background_job_writes_its_deny_entry(ctx: Context) -> None:
    """A job whose submitter may not do what it asks fails, and the refusal is audited like
    one through the API."""
    res = dataset_id(ctx, "参保人员")
    outsider = actor(ctx, "ai-analyst")
    with ctx.db.transaction() as session:
        task = tasks.enqueue(
            session,
            outsider,
            kind="privacy.screen",
            params={"dataset_id": res, "version": 1, "mode": "fast"},
            object_type="dataset",
            object_id=res,
            object_org_id=None,
        )
        task_id = task.id
    start = _denials(ctx, "dataset.screen")
    assert tasks.run_one(ctx, name="test-worker") == task_id
    with ctx.db.transaction() as session:
        assert session.get(Task, task_id).status == "failed"  # type: ignore[union-attr]
    assert _denials(ctx, "dataset.screen") == start + 1


def test_nothing_behind_a_login_or_carrying_a_secret_is_cached(
    app_client: TestClient, ctx: Context
) -> None:
    from tests.console.test_pages import csrf, login

    created = app_client.post(
        "/api/v1/tokens", json={"name": "t", "scopes": ["read"]}, headers=auth(ctx, "coop-manager")
    )
    assert created.status_code == 201 and "secret" in created.json()
    responses = [
        created,
        app_client.get("/login"),
        app_client.get("/api/v1/me", headers=auth(ctx, "coop-manager")),
    ]
    login(app_client, "coop-manager")
    for path in ("/home", "/tokens", "/org", "/contracts", "/audit", "/catalog"):
        responses.append(app_client.get(path))
    token_page = app_client.post(
        "/tokens", data={"name": "t2", "scopes": "read", "csrf_token": csrf(app_client)}
    )
    assert re.search(r"ys_[A-Za-z0-9_-]{20,}", token_page.text)
    responses.append(token_page)
    cached = [
        (r.request.method, r.request.url.path, r.headers.get("cache-control"))
        for r in responses
        if "no-store" not in r.headers.get("cache-control", "")
    ]
    assert cached == []
    static = app_client.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def test_a_post_without_its_csrf_token_is_refused_and_audited(
    app_client: TestClient, ctx: Context
) -> None:
    from tests.console.test_pages import login

    login(app_client, "coop-manager")
    start = _denials(ctx, "session.csrf")
    forged = app_client.post("/tokens", data={"name": "forged", "scopes": "read"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert _denials(ctx, "session.csrf") == start + 1
