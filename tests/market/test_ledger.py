"""The ledger on both databases: money is conserved over any sequence of transfers, pendings,
posts, voids and reversals; the database itself refuses what must never happen; retries post
once; concurrent writers never double-post or deadlock."""

from __future__ import annotations

import secrets
import threading
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.market.conftest import Books
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import (
    IdempotencyConflict,
    IllegalTransition,
    InsufficientFunds,
    InvalidInput,
)
from yaosu.market import service as market
from yaosu.market.models import LedgerAccount, LedgerTransfer

REFUSALS = (InsufficientFunds, IllegalTransition, InvalidInput)


def counters(session: Session) -> dict[str, tuple[int, int, int, int]]:
    return {
        a.id: (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
        for a in session.scalars(select(LedgerAccount))
    }


def from_transfers(session: Session) -> dict[str, tuple[int, int, int, int]]:
    """Every account's counters recomputed from the transfers alone, independently of the
    ledger's code: posted kinds count at their amount, a pending until it is resolved."""
    rows = list(session.scalars(select(LedgerTransfer)))
    resolved = {t.pending_id for t in rows if t.pending_id}
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for t in rows:
        if t.kind == "pending":
            if t.id not in resolved:
                out[t.debit_account_id][0] += t.amount
                out[t.credit_account_id][2] += t.amount
        elif t.kind != "void":
            out[t.debit_account_id][1] += t.amount
            out[t.credit_account_id][3] += t.amount
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def check_books(session: Session) -> None:
    have = counters(session)
    want = from_transfers(session)
    assert {k: v for k, v in have.items() if any(v)} == want
    assert sum(v[1] for v in have.values()) == sum(v[3] for v in have.values())  # balanced
    assert sum(v[0] for v in have.values()) == sum(v[2] for v in have.values())
    for a in session.scalars(select(LedgerAccount).where(LedgerAccount.no_negative)):
        assert market.balance(a, pending=True) >= 0, a.id


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(1, 10_000)),
        st.tuples(st.just("spend"), st.integers(1, 20_000)),
        st.tuples(st.just("hold"), st.integers(1, 20_000), st.booleans()),
        st.tuples(st.just("post"), st.integers(0, 20), st.integers(0, 100)),
        st.tuples(st.just("void"), st.integers(0, 20)),
        st.tuples(st.just("reverse"), st.integers(0, 20), st.integers(1, 20_000)),
        st.tuples(st.just("retry"), st.integers(0, 20)),
        st.tuples(st.just("linked"), st.integers(1, 10_000), st.integers(1, 10_000)),
    ),
    max_size=14,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_money_is_conserved_over_any_sequence(ctx: Context, books: Books, ops: list[Any]) -> None:
    run = secrets.token_hex(4)
    pendings: list[str] = []
    posted: list[str] = []
    sent: list[market.Spec] = []
    with ctx.db.transaction() as session:
        for n, op in enumerate(ops):
            key = f"{run}:{n}"
            before = counters(session)
            try:
                with session.begin_nested():
                    _apply(session, books, op, key, pendings, posted, sent)
            except REFUSALS:
                assert counters(session) == before  # a refusal changes nothing
        check_books(session)


def _apply(
    session: Session,
    books: Books,
    op: Any,
    key: str,
    pendings: list[str],
    posted: list[str],
    sent: list[market.Spec],
) -> None:
    p, kind = books.platform, op[0]
    if kind in ("pay", "spend", "hold"):
        debit, credit = (
            (books.bank, books.escrow) if kind == "pay" else (books.escrow, books.revenue)
        )
        spec = market.Spec(
            key=key,
            code=kind,
            amount=op[1],
            debit=debit,
            credit=credit,
            kind="pending" if kind == "hold" else "single",
            timeout_seconds=3600 if kind == "hold" and op[2] else None,
        )
        t = market.post_batch(session, p, transfers=[spec])[0]
        sent.append(spec)
        (pendings if kind == "hold" else posted).append(t.id)
    elif kind == "post" and pendings:
        pending = market.get_transfer(session, transfer_id=pendings[op[1] % len(pendings)])
        amount = max(1, pending.amount * op[2] // 100)
        posted.append(
            market.post_pending(session, p, key=key, pending_id=pending.id, amount=amount).id
        )
    elif kind == "void" and pendings:
        market.void_pending(session, p, key=key, pending_id=pendings[op[1] % len(pendings)])
    elif kind == "reverse" and posted:
        market.reverse(session, p, key=key, transfer_id=posted[op[1] % len(posted)], amount=op[2])
    elif kind == "retry" and sent:
        spec = sent[op[1] % len(sent)]
        before = session.scalar(select(func.count()).select_from(LedgerTransfer))
        again = market.post_batch(session, p, transfers=[spec])[0]
        assert again.idempotency_key == spec.key
        assert session.scalar(select(func.count()).select_from(LedgerTransfer)) == before
    elif kind == "linked":
        # Paid in, then passed on: both or neither (the second may overdraw the escrow).
        market.post_batch(
            session,
            p,
            transfers=[
                market.Spec(
                    key=f"{key}a", code="pay", amount=op[1], debit=books.bank, credit=books.escrow
                ),
                market.Spec(
                    key=f"{key}b", code="spend", amount=op[2], debit=books.escrow, credit=books.fee
                ),
            ],
        )


def test_retries_post_once_and_a_changed_retry_is_refused(ctx: Context, books: Books) -> None:
    p = books.platform
    with ctx.db.transaction() as session:
        first = market.transfer(
            session,
            p,
            key="order-1:pay",
            debit=books.bank,
            credit=books.escrow,
            amount=12_345,
            code="pay",
        )
    with ctx.db.transaction() as session:
        again = market.transfer(
            session,
            p,
            key="order-1:pay",
            debit=books.bank,
            credit=books.escrow,
            amount=12_345,
            code="pay",
        )
        assert again.id == first.id
        with pytest.raises(IdempotencyConflict) as refused:
            market.transfer(
                session,
                p,
                key="order-1:pay",
                debit=books.bank,
                credit=books.escrow,
                amount=12_346,
                code="pay",
            )
        assert "order-1:pay" in refused.value.message("en")
        assert "幂等键" in refused.value.message("zh-CN")
        escrow = session.get(LedgerAccount, books.escrow)
        assert escrow is not None
        assert (
            session.scalar(
                select(func.count())
                .select_from(LedgerTransfer)
                .where(LedgerTransfer.idempotency_key == "order-1:pay")
            )
            == 1
        )
        check_books(session)


def test_two_phase_post_partial_void_expire(ctx: Context, books: Books) -> None:
    p = books.platform
    with ctx.db.transaction() as session:
        account = session.get(LedgerAccount, books.escrow)  # the demo's orders hold some too
        assert account is not None
        posted, available = market.balance(account), market.balance(account, pending=True)
        market.transfer(
            session, p, key="fund", debit=books.bank, credit=books.escrow, amount=10_000, code="pay"
        )
        hold = market.transfer(
            session,
            p,
            key="hold",
            debit=books.escrow,
            credit=books.revenue,
            amount=6_000,
            code="order",
            pending=True,
        )
        with pytest.raises(InsufficientFunds):  # 6,000 of 10,000 is reserved
            market.transfer(
                session,
                p,
                key="too-much",
                debit=books.escrow,
                credit=books.revenue,
                amount=4_001,
                code="order",
            )
        market.post_pending(session, p, key="hold:post", pending_id=hold.id, amount=5_000)
        with pytest.raises(IllegalTransition):
            market.void_pending(session, p, key="hold:void", pending_id=hold.id)
        with pytest.raises(InvalidInput):
            market.post_pending(
                session,
                p,
                key="big",
                pending_id=market.transfer(
                    session,
                    p,
                    key="hold2",
                    debit=books.escrow,
                    credit=books.revenue,
                    amount=100,
                    code="order",
                    pending=True,
                ).id,
                amount=101,
            )
        late = market.transfer(
            session,
            p,
            key="hold3",
            debit=books.escrow,
            credit=books.revenue,
            amount=200,
            code="order",
            pending=True,
            timeout_seconds=60,
        )
        later = utcnow() + timedelta(seconds=61)
        with pytest.raises(IllegalTransition):
            market.post_pending(session, p, key="hold3:post", pending_id=late.id, at=later)
        assert market.expire(session, p, now=later) == 1
        assert market.expire(session, p, now=later) == 0
        escrow = session.get(LedgerAccount, books.escrow)
        assert escrow is not None
        assert market.balance(escrow) == posted + 5_000
        assert market.balance(escrow, pending=True) == available + 4_900
        check_books(session)


def test_the_database_refuses_what_must_never_happen(ctx: Context, books: Books) -> None:
    with ctx.db.transaction() as session:
        t = market.transfer(
            session,
            books.platform,
            key="raw",
            debit=books.bank,
            credit=books.escrow,
            amount=500,
            code="pay",
        )
    row = {
        "debit": books.bank,
        "credit": books.escrow,
        "now": utcnow(),
    }
    insert = (
        "INSERT INTO ledger_transfers (id, idempotency_key, debit_account_id, credit_account_id, "
        "amount, code, kind, created_at) VALUES (:id, :key, :debit, :credit, :amount, 'pay', "
        "'single', :now)"
    )
    attempts = [
        ("UPDATE ledger_transfers SET amount = 1 WHERE id = :id", {"id": t.id}),
        ("DELETE FROM ledger_transfers WHERE id = :id", {"id": t.id}),
        (insert, {**row, "id": "trf_zero", "key": "zero", "amount": 0}),
        (insert, {**row, "id": "trf_neg", "key": "neg", "amount": -5}),
        (insert, {**row, "id": "trf_self", "key": "self", "amount": 5, "credit": books.bank}),
        (insert, {**row, "id": "trf_dup", "key": "raw", "amount": 5}),
        # the escrow is credit-normal and must not go negative
        (
            "UPDATE ledger_accounts SET debits_posted = credits_posted + 1 WHERE id = :id",
            {"id": books.escrow},
        ),
    ]
    for sql, params in attempts:
        with pytest.raises(DBAPIError), ctx.db.transaction() as session:
            session.execute(text(sql), params)
    with ctx.db.transaction() as session:
        stored = session.get(LedgerTransfer, t.id)
        assert stored is not None and stored.amount == 500
        check_books(session)


def test_bad_input_is_refused_in_the_users_language(ctx: Context, books: Books) -> None:
    with ctx.db.transaction() as session:
        for amount in (0, -1, market.MAX_FEN + 1):
            with pytest.raises(InvalidInput):
                market.transfer(
                    session,
                    books.platform,
                    key=f"bad{amount}",
                    debit=books.bank,
                    credit=books.escrow,
                    amount=amount,
                    code="pay",
                )
        with pytest.raises(InvalidInput) as same:
            market.transfer(
                session,
                books.platform,
                key="same",
                debit=books.bank,
                credit=books.bank,
                amount=1,
                code="pay",
            )
        assert "两个不同账户" in same.value.message("zh-CN")
    assert market.fen("1234.56") == 123_456
    for bad in ("1.005", "abc", 1.5):
        with pytest.raises(InvalidInput):
            market.fen(bad)  # type: ignore[arg-type]


def test_concurrent_writers_never_double_post(ctx: Context, books: Books, backend: str) -> None:
    """Threads post the same transfers (each key from two threads) in both directions
    between two accounts: each key posts once, nobody deadlocks, the books balance."""
    p = books.platform
    with ctx.db.transaction() as session:
        market.transfer(
            session,
            p,
            key="seed-a",
            debit=books.bank,
            credit=books.escrow,
            amount=1_000_000,
            code="pay",
        )
        market.transfer(
            session,
            p,
            key="seed-b",
            debit=books.bank,
            credit=books.revenue,
            amount=1_000_000,
            code="pay",
        )
    threads = 40 if backend == "postgresql" else 8
    keys = threads // 2
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(i: int) -> None:
        k = i % keys
        debit, credit = (books.escrow, books.revenue) if k % 2 else (books.revenue, books.escrow)
        start.wait()
        for attempt in range(5):
            try:
                with ctx.db.transaction() as session:
                    market.transfer(
                        session,
                        p,
                        key=f"race-{k}",
                        debit=debit,
                        credit=credit,
                        amount=100 + k,
                        code="order",
                    )
                return
            except IdempotencyConflict:
                if attempt == 4:
                    raise
            except BaseException as exc:
                errors.append(exc)
                return

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert errors == []
    with ctx.db.transaction() as session:
        made = session.scalar(
            select(func.count())
            .select_from(LedgerTransfer)
            .where(LedgerTransfer.idempotency_key.like("race-%"))
        )
        assert made == keys
        check_books(session)
