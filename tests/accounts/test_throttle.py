"""Login throttling: per account from any address, per address for any account, a lockout
that doubles, a success that clears, every refusal audited, and nothing that tells whether an
account exists. Through both doors: the API's password login and the console's form."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.conftest import DEMO_PASSWORD
from yaosu.accounts.models import LoginThrottle
from yaosu.api import create_app
from yaosu.audit.models import AuditEntry
from yaosu.context import Context
from yaosu.kernel.db import utcnow

LIMIT, PER_ADDRESS, BASE, CAP = 3, 5, 60, 600
Login = Callable[[str, str, str], tuple[int, dict[str, str], str]]


@pytest.fixture
def throttled(ctx: Context) -> Context:
    ctx.settings = ctx.settings.model_copy(
        update={
            "login_max_failures": LIMIT,
            "login_max_failures_per_address": PER_ADDRESS,
            "login_lockout_seconds": BASE,
            "login_lockout_max_seconds": CAP,
            "task_workers": 0,
        }
    )
    return ctx


def _client(ctx: Context, address: str) -> TestClient:
    app = create_app(ctx.settings, migrate=False)
    app.state.yaosu = ctx
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


@pytest.fixture(params=["api", "console"])
def login(request: pytest.FixtureRequest, throttled: Context) -> Iterator[Login]:
    """Logs in through one door from a given address: (status, headers, message)."""
    clients: dict[str, TestClient] = {}

    def attempt(username: str, password: str, address: str) -> tuple[int, dict[str, str], str]:
        client = clients.setdefault(address, _client(throttled, address))
        client.cookies.clear()
        if request.param == "api":
            r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
            message = r.json()["error"]["message"] if r.status_code >= 400 else ""
        else:
            page = client.get("/login")
            token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
            assert token
            r = client.post(
                "/login",
                data={"username": username, "password": password, "login_csrf": token.group(1)},
                follow_redirects=False,
            )
            found = re.search(r'class="error-message" role="alert">([^<]+)<', r.text)
            message = found.group(1) if found else ""
        return r.status_code, dict(r.headers), message

    yield attempt
    for client in clients.values():
        client.close()


def _ok(status: int) -> bool:
    return status in (200, 303)


def test_failures_lock_the_account_from_any_address(login: Login) -> None:
    for _ in range(LIMIT - 1):
        assert login("bureau-admin", "wrong-password", "10.0.0.1")[0] == 401
    status, headers, message = login("bureau-admin", "wrong-password", "10.0.0.1")
    assert status == 429 and int(headers["retry-after"]) == BASE
    assert "登录失败次数过多" in message
    # the right password, from another address, is still refused while the lock holds
    status, headers, _ = login("bureau-admin", DEMO_PASSWORD, "10.0.0.2")
    assert status == 429 and 0 < int(headers["retry-after"]) <= BASE
    # other accounts are not locked by it
    assert _ok(login("bureau-analyst", DEMO_PASSWORD, "10.0.0.2")[0])


def test_failures_lock_the_address_for_any_account(login: Login) -> None:
    names = ["bureau-admin", "bureau-analyst", "nobody-1", "nobody-2", "coop-manager"]
    for name in names[:PER_ADDRESS]:  # one failure each: no account reaches its limit
        status = login(name, "wrong-password", "10.0.0.9")[0]
    assert status == 429
    status, headers, _ = login("ai-analyst", DEMO_PASSWORD, "10.0.0.9")
    assert status == 429 and int(headers["retry-after"]) > 0
    assert _ok(login("ai-analyst", DEMO_PASSWORD, "10.0.0.10")[0])


def test_the_lockout_doubles_with_each_further_failure(login: Login, throttled: Context) -> None:
    waits = []
    for _ in range(LIMIT):
        status, headers, _ = login("bureau-admin", "wrong-password", "10.0.0.3")
    waits.append(int(headers["retry-after"]))
    for _ in range(4):
        _expire_locks(throttled)  # the lockout has run out (its end moved into the past)
        status, headers, _ = login("bureau-admin", "wrong-password", "10.0.0.3")
        assert status == 429
        waits.append(int(headers["retry-after"]))
    assert waits == [BASE, 2 * BASE, 4 * BASE, 8 * BASE, CAP]


def test_a_success_clears_the_accounts_failures(login: Login) -> None:
    for _ in range(LIMIT - 1):
        assert login("bureau-admin", "wrong-password", "10.0.0.4")[0] == 401
    assert _ok(login("bureau-admin", DEMO_PASSWORD, "10.0.0.4")[0])
    for _ in range(LIMIT - 1):  # counted from zero again: not locked yet
        assert login("bureau-admin", "wrong-password", "10.0.0.5")[0] == 401
    assert _ok(login("bureau-admin", DEMO_PASSWORD, "10.0.0.5")[0])


def test_an_unknown_account_is_answered_exactly_like_a_real_one(login: Login) -> None:
    real = [login("bureau-admin", "wrong-password", "10.0.1.1") for _ in range(LIMIT + 1)]
    ghost = [login("nobody-here", "wrong-password", "10.0.1.2") for _ in range(LIMIT + 1)]
    assert [(s, m, h.get("retry-after")) for s, h, m in real] == [
        (s, m, h.get("retry-after")) for s, h, m in ghost
    ]


def test_every_refused_login_writes_one_deny_entry(login: Login, throttled: Context) -> None:
    def denied() -> int:
        with throttled.db.transaction() as session:
            return session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "session.login", AuditEntry.decision == "deny")
            )

    start = denied()
    for _ in range(LIMIT + 2):  # failures, the one that locks, and refusals during the lock
        login("bureau-admin", "wrong-password", "10.0.2.1")
    login("bureau-admin", DEMO_PASSWORD, "10.0.2.1")
    assert denied() - start == LIMIT + 3
    with throttled.db.transaction() as session:
        keys = list(session.scalars(select(LoginThrottle.key)))
    assert keys and all("bureau-admin" not in k and "10.0.2.1" not in k for k in keys)


def _expire_locks(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
