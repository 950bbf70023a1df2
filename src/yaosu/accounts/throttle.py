"""Login throttling: per account (from any address) and per address (for any account).

After ``login_max_failures`` failures of one username within ``login_window_seconds`` (or
``login_max_failures_per_address`` from one address), further attempts are refused with 429
until the lockout ends, without checking the password, so a correct password during a
lockout is refused too. The lockout starts at ``login_lockout_seconds`` and doubles with
each further failure, up to ``login_lockout_max_seconds``. A successful login clears its
account's failures (not its address's: one valid account must not reset a guessing spree
from that address). Unknown usernames are counted exactly like real ones, so the answer
never tells whether an account exists.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from yaosu.accounts.models import LoginThrottle
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.settings import Settings


@dataclass(frozen=True)
class Keys:
    account: str
    address: str | None


def keys(username: str, address: str | None) -> Keys:
    return Keys(
        _key("account", username.strip().lower()),
        _key("address", address) if address else None,
    )


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _limit(settings: Settings, kind: str) -> int:
    if kind == "account":
        return settings.login_max_failures
    return settings.login_max_failures_per_address


def _lockout(settings: Settings, failures: int, limit: int) -> timedelta:
    """The lockout after the ``failures``-th failure: none below the limit, then the base,
    doubling with each further failure, capped."""
    beyond = failures - limit
    seconds = min(
        settings.login_lockout_max_seconds,
        settings.login_lockout_seconds * (2 ** min(beyond, 30)),
    )
    return timedelta(seconds=seconds)


def _rows(session: Session, found: Keys, *, lock: bool) -> list[LoginThrottle]:
    wanted = [k for k in (found.account, found.address) if k]
    stmt = select(LoginThrottle).where(LoginThrottle.key.in_(wanted))
    if lock:
        stmt = locked(stmt)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def retry_after(session: Session, *, found: Keys, now: datetime | None = None) -> int | None:
    """Seconds until this account and address may try again, or None when neither is locked."""
    now = now or utcnow()
    waits = [
        (row.locked_until - now).total_seconds()
        for row in _rows(session, found, lock=False)
        if row.locked_until is not None and row.locked_until > now
    ]
    return max(1, math.ceil(max(waits))) if waits else None


def fail(
    session: Session, *, settings: Settings, found: Keys, now: datetime | None = None
) -> int | None:
    """Counts a failed login against the account and the address; returns the lockout now in
    force (seconds), if this failure started or extended one."""
    now = now or utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    pairs = [(k, key) for k, key in (("account", found.account), ("address", found.address))]
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = pg_insert if postgres else sqlite_insert
    for kind, key in pairs:  # the rows exist before they are locked: no race on the first
        if key is not None:
            session.execute(
                insert(LoginThrottle)
                .values(key=key, kind=kind, failures=0, last_failure_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
    rows = {row.key: row for row in _rows(session, found, lock=True)}
    for kind, key in pairs:
        if key is None:
            continue
        row = rows[key]
        if now - row.last_failure_at > window and (
            row.locked_until is None or row.locked_until <= now
        ):
            row.failures = 0  # an old run of failures is forgotten
        row.failures += 1
        row.last_failure_at = now
        limit = _limit(settings, kind)
        if row.failures >= limit:
            row.locked_until = now + _lockout(settings, row.failures, limit)
    session.flush()
    return retry_after(session, found=found, now=now)


def succeed(session: Session, *, found: Keys) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == found.account))
