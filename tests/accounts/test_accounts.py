"""Organisations, users, passwords, tokens and console sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import DEMO_PASSWORD, actor, auth, token_for
from yaosu.accounts import credentials, service
from yaosu.accounts.models import ApiToken, Organisation, User
from yaosu.audit.models import AuditEntry
from yaosu.context import Context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import Conflict, InvalidCredentials, InvalidInput, InvalidToken, NotFound


def test_demo_world_has_every_kind_of_organisation(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        orgs = list(session.scalars(select(Organisation)))
    kinds = {k for o in orgs for k in o.kinds}
    assert kinds == {"provider", "operator", "consumer", "regulator", "platform", "assessor"}
    departments = {o.department for o in orgs if "regulator" in o.kinds}
    assert {"网信", "数据局"} <= departments


def test_passwords_are_argon2_hashes(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == "bureau-admin"))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert DEMO_PASSWORD not in user.password_hash
        assert (
            service.authenticate(session, username="bureau-admin", password=DEMO_PASSWORD).id
            == user.id
        )
        with pytest.raises(InvalidCredentials):
            service.authenticate(session, username="bureau-admin", password="wrong-password")
        with pytest.raises(InvalidCredentials):
            service.authenticate(session, username="nobody", password=DEMO_PASSWORD)


def test_org_and_user_validation(ctx: Context) -> None:
    system = system_actor()
    with ctx.db.transaction() as session:
        with pytest.raises(InvalidInput):
            service.create_org(session, system, name="某机构", kinds=["wizard"])
        with pytest.raises(InvalidInput):
            service.create_org(session, system, name="某监管", kinds=["regulator"])  # no department
        with pytest.raises(InvalidInput):
            service.create_org(
                session, system, name="某公司", kinds=["consumer"], uscc="91330100MA27XL0Q10"
            )
        with pytest.raises(Conflict):
            service.create_org(session, system, name="江州市数据局", kinds=["provider"])
        org = service.create_org(
            session, system, name="江州市市场监管局", kinds=["regulator"], department="市场监管"
        )
        with pytest.raises(InvalidInput):
            service.create_user(
                session, system, org_id=org.id, username="x", password="long-enough-pw"
            )
        with pytest.raises(InvalidInput):
            service.create_user(
                session, system, org_id=org.id, username="inspector", password="short"
            )
        with pytest.raises(Conflict):
            service.create_user(
                session, system, org_id=org.id, username="bureau-admin", password="long-enough-pw"
            )
        with pytest.raises(NotFound):
            service.create_user(
                session, system, org_id="org_missing", username="someone", password="long-enough-pw"
            )


def test_token_is_shown_once_stored_hashed_and_scoped(app_client: TestClient, ctx: Context) -> None:
    r = app_client.post(
        "/api/v1/tokens",
        json={"name": "分析脚本", "scopes": ["read"], "days": 30},
        headers=auth(ctx, "ai-analyst"),
    )
    assert r.status_code == 201
    secret = r.json()["secret"]
    assert secret.startswith("ys_") and len(secret) > 40
    with ctx.db.transaction() as session:
        stored = session.get(ApiToken, r.json()["id"])
        assert stored is not None and secret not in (stored.token_hash, stored.prefix)
    listing = app_client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"})
    assert listing.status_code == 200
    assert all("secret" not in t for t in listing.json()["items"])
    # read-only token: may read, may not write
    ds = app_client.post(
        "/api/v1/datasets",
        json={"title": "x", "theme": "y"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert ds.status_code == 403 and ds.json()["error"]["code"] == "SCOPE_MISSING"


def test_read_only_token_cannot_create_a_dataset(app_client: TestClient, ctx: Context) -> None:
    headers = auth(ctx, "bureau-admin", scopes=("read",))
    r = app_client.post(
        "/api/v1/datasets", json={"title": "新数据", "theme": "测试"}, headers=headers
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "SCOPE_MISSING"
    assert r.json()["error"]["detail"]["scope"] == "write"


def test_token_cannot_widen_its_own_scopes(app_client: TestClient, ctx: Context) -> None:
    headers = auth(ctx, "bureau-admin", scopes=("read", "write"))
    r = app_client.post("/api/v1/tokens", json={"name": "x", "scopes": ["admin"]}, headers=headers)
    assert r.status_code == 422


def test_wrong_expired_and_revoked_tokens_are_refused(app_client: TestClient, ctx: Context) -> None:
    bad = app_client.get("/api/v1/me", headers={"Authorization": "Bearer ys_not-a-real-token"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "INVALID_TOKEN"
    assert bad.headers["www-authenticate"] == "Bearer"
    junk = app_client.get("/api/v1/me", headers={"Authorization": "Bearer 你好".encode()})
    assert junk.status_code == 401

    secret = token_for(ctx, "coop-manager")
    ok = app_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200 and ok.json()["user"]["username"] == "coop-manager"
    token_id = app_client.get(
        "/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"}
    ).json()["items"][0]["id"]
    revoked = app_client.delete(
        f"/api/v1/tokens/{token_id}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = app_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert after.status_code == 401

    secret = token_for(ctx, "coop-manager")
    with ctx.db.transaction() as session:
        with pytest.raises(InvalidToken):
            credentials.actor_from_token(session, secret="ys_" + "x" * 43)
        for token in session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))):
            token.expires_at = utcnow() - timedelta(seconds=1)
    expired = app_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert expired.status_code == 401


def test_someone_elses_token_cannot_be_revoked(app_client: TestClient, ctx: Context) -> None:
    secret = token_for(ctx, "coop-manager")
    token_id = app_client.get(
        "/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"}
    ).json()["items"][0]["id"]
    r = app_client.delete(f"/api/v1/tokens/{token_id}", headers=auth(ctx, "ai-analyst"))
    assert r.status_code == 403
    assert (
        app_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )


def test_console_login_sets_a_safe_cookie_and_requires_csrf(
    app_client: TestClient, ctx: Context
) -> None:
    wrong = app_client.post(
        "/api/v1/auth/login", json={"username": "bureau-admin", "password": "nope-nope-nope"}
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"

    r = app_client.post(
        "/api/v1/auth/login", json={"username": "bureau-admin", "password": DEMO_PASSWORD}
    )
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "yaosu_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests; Secure is set behind TLS
    csrf = r.json()["csrf_token"]
    assert app_client.get("/api/v1/me").json()["user"]["username"] == "bureau-admin"

    body = {"title": "会话创建的数据集", "theme": "测试"}
    refused = app_client.post("/api/v1/datasets", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "CSRF_FAILED"
    forged = app_client.post("/api/v1/datasets", json=body, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    accepted = app_client.post("/api/v1/datasets", json=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201

    out = app_client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    app_client.cookies.clear()
    assert app_client.get("/api/v1/me").status_code == 401


def test_a_logged_out_session_cookie_is_dead(app_client: TestClient, ctx: Context) -> None:
    r = app_client.post(
        "/api/v1/auth/login", json={"username": "coop-manager", "password": DEMO_PASSWORD}
    )
    cookie = app_client.cookies.get("yaosu_session")
    app_client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
    app_client.cookies.set("yaosu_session", cookie or "")
    assert app_client.get("/api/v1/me").status_code == 401


def test_org_admin_adds_members_others_cannot(app_client: TestClient, ctx: Context) -> None:
    bureau = actor(ctx, "bureau-admin")
    body = {"username": "bureau-new", "password": "a-long-password", "role": "member"}
    ok = app_client.post(
        f"/api/v1/orgs/{bureau.org_id}/members", json=body, headers=auth(ctx, "bureau-admin")
    )
    assert ok.status_code == 201 and ok.json()["role"] == "member"
    member = app_client.post(
        f"/api/v1/orgs/{bureau.org_id}/members",
        json={**body, "username": "bureau-new2"},
        headers=auth(ctx, "bureau-analyst"),
    )
    assert member.status_code == 403
    foreign = app_client.post(
        f"/api/v1/orgs/{bureau.org_id}/members",
        json={**body, "username": "bureau-new3"},
        headers=auth(ctx, "ai-analyst"),
    )
    assert foreign.status_code == 403
    members = app_client.get(
        f"/api/v1/orgs/{bureau.org_id}/members", headers=auth(ctx, "ai-analyst")
    )
    assert members.status_code == 404  # another organisation's member list does not exist for you
    own = app_client.get(
        f"/api/v1/orgs/{bureau.org_id}/members", headers=auth(ctx, "bureau-analyst")
    )
    assert "bureau-new" in {u["username"] for u in own.json()["items"]}
    assert all("password" not in str(u) for u in own.json()["items"])


def test_platform_admin_creates_organisations(app_client: TestClient, ctx: Context) -> None:
    body = {"name": "江州市公安局", "kinds": ["regulator"], "department": "公安"}
    assert (
        app_client.post("/api/v1/orgs", json=body, headers=auth(ctx, "bureau-admin")).status_code
        == 403
    )
    r = app_client.post("/api/v1/orgs", json=body, headers=auth(ctx, "platform-admin"))
    assert r.status_code == 201 and r.json()["department"] == "公安"
    with ctx.db.transaction() as session:
        entry = session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "org.create")
            .order_by(AuditEntry.seq.desc())
        )
        assert entry is not None and entry.object_id == r.json()["id"]


def test_bootstrap_admin(empty_ctx: Context) -> None:
    empty_ctx.db.upgrade()
    with empty_ctx.db.transaction() as session:
        user = service.bootstrap_admin(
            session, system_actor(), username="root-admin", password="a-long-password"
        )
        again = service.bootstrap_admin(
            session, system_actor(), username="second-admin", password="a-long-password"
        )
        assert user.org_id == again.org_id
        org = session.get(Organisation, user.org_id)
        assert org is not None and org.kinds == ["platform"]
