"""The double-entry ledger, in integer fen, in the metadata database (TigerBeetle's model).

An account holds four counters (debits and credits, pending and posted); a transfer moves an
amount from one account's debit side to another's credit side and is never changed: a mistake
is corrected by a ``reversal``. Money is reserved by a ``pending`` transfer, then ``post``-ed
(all of it or less) or ``void``-ed, by hand or when its timeout passes (``expire``). Every
transfer carries an idempotency key: a retry with the same key and the same content returns
the original, with the same key and other content it is refused (``IdempotencyConflict``).

``post_batch`` is the one write path: its transfers are linked (all are written or none),
their accounts are locked in id order (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers), and they are written with one bulk insert and one
bulk update of the touched accounts, so 100,000 orders cost a few round trips, not 400,000.
The database checks again what Python checks first (positive amounts, two distinct accounts,
no account below zero when it must not be, a pending resolved once, a key used once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import (
    IdempotencyConflict,
    IllegalTransition,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.market.models import LedgerAccount, LedgerTransfer

# The largest amount one transfer may carry: 10^15 fen (ten trillion yuan). Counters are
# 64-bit; a batch of such transfers still cannot overflow them.
MAX_FEN = 10**15
CHUNK = 1000  # ids per IN (...) and rows per insert statement

# The chart of accounts: what each code holds, the side its balance grows on, whether it may
# go below zero. ``bank`` is the platform's account at its bank (an asset); the others are
# what the platform owes a participant (liabilities), or is owed (``receivable``).
CHART: dict[str, tuple[str, bool]] = {
    "bank": ("debit", True),
    "escrow": ("credit", True),  # a buyer's funds held until delivery is accepted
    "revenue": ("credit", True),  # a seller's takings
    "operator_fee": ("credit", True),
    "service_fee": ("credit", True),  # the platform's own fee
    "payable": ("credit", True),  # settled and due to be paid out
    "receivable": ("debit", False),
}

KINDS = ("single", "pending", "post", "void", "reversal")
TRANSFERS: Table = LedgerTransfer.__table__  # type: ignore[assignment]
ACCOUNTS: Table = LedgerAccount.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Spec:
    """One transfer to write. ``kind`` ``single`` and ``pending`` name both accounts;
    ``post``/``void`` name ``pending_id`` (a post may carry a smaller ``amount``); ``reversal``
    names ``reverses_id`` (and may carry a smaller ``amount``)."""

    key: str
    code: str
    amount: int | None = None
    debit: str | None = None
    credit: str | None = None
    kind: str = "single"
    ref: str | None = None
    timeout_seconds: int | None = None
    pending_id: str | None = None
    reverses_id: str | None = None


@dataclass
class _Counters:
    dp: int = 0
    dq: int = 0  # debits posted
    cp: int = 0
    cq: int = 0  # credits posted
    normal: str = "credit"
    no_negative: bool = True
    changed: bool = field(default=False)


def fen(value: Decimal | int | str) -> int:
    """Yuan (a ``Decimal``, an ``int`` or a decimal string) as integer fen, exactly: more than
    two decimal places, a float, or an amount beyond ``MAX_FEN`` is refused.

    >>> fen("1234.56"), fen(Decimal("0.1")), fen(3)
    (123456, 10, 300)
    """
    if isinstance(value, (float, bool)):
        raise InvalidInput(problem=_("amounts are decimals, never floats"))
    try:
        d = Decimal(value) if not isinstance(value, Decimal) else value
    except ArithmeticError as exc:
        raise InvalidInput(problem=_("{value} is not an amount", value=value)) from exc
    if not d.is_finite() or d.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput(problem=_("{value} is not an amount in yuan and fen", value=value))
    out = int(d * 100)
    if abs(out) > MAX_FEN:
        raise InvalidInput(problem=_("{value} is too large an amount", value=value))
    return out


def yuan(amount: int) -> str:
    """The one money formatter: fen as ``¥1,234.56`` (``-¥5.00`` below zero).

    >>> yuan(123456), yuan(-500), yuan(0)
    ('¥1,234.56', '-¥5.00', '¥0.00')
    """
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(int(amount)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


# --- accounts ------------------------------------------------------------------------------


def open_account(session: Session, *, org_id: str, code: str, currency: str = "CNY") -> str:
    """The id of ``org_id``'s account ``code``, opened on first use."""
    if code not in CHART:
        raise InvalidInput(problem=_("unknown ledger account {code}", code=code))
    found = session.scalar(
        select(LedgerAccount.id).where(
            LedgerAccount.org_id == org_id,
            LedgerAccount.code == code,
            LedgerAccount.currency == currency,
        )
    )
    if found is not None:
        return found
    normal, no_negative = CHART[code]
    account = LedgerAccount(
        id=new_id("acc"),
        org_id=org_id,
        code=code,
        currency=currency,
        normal=normal,
        no_negative=no_negative,
        debits_pending=0,
        debits_posted=0,
        credits_pending=0,
        credits_posted=0,
    )
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:  # opened at the same moment by another transaction
        return open_account(session, org_id=org_id, code=code, currency=currency)
    return account.id


def platform_org_id(session: Session) -> str:
    """The platform's organisation: it holds the bank account and the service fees."""
    return accounts.platform_org_id(session)


def balance(account: LedgerAccount, *, pending: bool = False) -> int:
    """An account's balance on its normal side (posted; with ``pending``, what is reserved
    is taken off as if it were posted)."""
    if account.normal == "credit":
        held = account.debits_pending if pending else 0
        return account.credits_posted - account.debits_posted - held
    held = account.credits_pending if pending else 0
    return account.debits_posted - account.credits_posted - held


def accounts_of(session: Session, *, org_id: str | None = None) -> list[LedgerAccount]:
    stmt = select(LedgerAccount).order_by(LedgerAccount.org_id, LedgerAccount.code)
    if org_id is not None:
        stmt = stmt.where(LedgerAccount.org_id == org_id)
    return list(session.scalars(stmt))


# --- the seam for issue 15 ------------------------------------------------------------------


def revenue_accounts_for(
    session: Session, *, seller_org_id: str, amount: int, ref: str | None = None
) -> list[tuple[str, int]]:
    """Where an order's revenue goes: ``[(account id, fen), …]`` summing to ``amount``.
    Today all of it goes to the seller's revenue account; issue 15 replaces this one function
    with the contributors' shares (the split must still sum to ``amount``)."""
    return [(open_account(session, org_id=seller_org_id, code="revenue"), amount)]


# --- writing -------------------------------------------------------------------------------


def post_batch(
    session: Session,
    actor: Actor,
    *,
    transfers: Sequence[Spec],
    at: datetime | None = None,
    audit: bool = True,
) -> list[LedgerTransfer]:
    """Writes ``transfers`` as one linked batch: all of them, or (on any refusal) none, and
    returns them in order (a retried transfer as it was first written). ``at`` backdates the
    batch (the demo, the benchmark and tests of clearing periods); the routes never pass it."""
    if not transfers:
        return []
    now = at or utcnow()
    keys = [t.key for t in transfers]
    if len(set(keys)) != len(keys):
        raise InvalidInput(problem=_("a batch uses an idempotency key twice"))
    for t in transfers:
        _check_spec(t)
    refs = _load(session, ids={t.pending_id or t.reverses_id for t in transfers} - {None})
    resolved = [_resolve(t, refs) for t in transfers]
    accounts = _lock(session, ids={a for r in resolved for a in (r["debit"], r["credit"])})
    existing = _existing(session, keys=keys)
    out: list[LedgerTransfer | dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    batch = new_id("bat")
    pendings = [r["pending_id"] for r in resolved if r["pending_id"] and r["key"] not in existing]
    already = _resolved_pendings(session, ids=pendings)
    reversed_ = _reversed_amounts(
        session, ids=[r["reverses_id"] for r in resolved if r["reverses_id"]]
    )
    for r in resolved:
        old = existing.get(r["key"])
        if old is not None:
            if not _same(old, r):
                raise IdempotencyConflict(key=r["key"])
            out.append(old)
            continue
        _admit(r, refs=refs, already=already, reversed_=reversed_, now=now)
        r.update(id=new_id("trf"), batch_id=batch, created_at=now)
        seconds = r.pop("timeout_seconds")
        if seconds:
            r["timeout_at"] = now + timedelta(seconds=seconds)
        _apply(r, accounts=accounts, refs=refs)
        rows.append(r)
        out.append(r)
    if rows:
        _write(session, rows=rows, accounts=accounts)
        if audit:
            record(
                session,
                actor,
                action="ledger.post",
                object_type="ledger",
                object_id=batch,
                detail={
                    "transfers": len(rows),
                    "amount": sum(r["amount"] for r in rows),
                    "first": rows[0]["id"],
                    "codes": sorted({r["code"] for r in rows}),
                },
            )
    return [o if isinstance(o, LedgerTransfer) else _transfer(o) for o in out]


def transfer(
    session: Session,
    actor: Actor,
    *,
    key: str,
    debit: str,
    credit: str,
    amount: int,
    code: str,
    ref: str | None = None,
    pending: bool = False,
    timeout_seconds: int | None = None,
    at: datetime | None = None,
) -> LedgerTransfer:
    """One transfer, posted at once or (``pending``) reserved until posted, voided or timed
    out."""
    spec = Spec(
        key=key,
        code=code,
        amount=amount,
        debit=debit,
        credit=credit,
        kind="pending" if pending else "single",
        ref=ref,
        timeout_seconds=timeout_seconds,
    )
    return post_batch(session, actor, transfers=[spec], at=at)[0]


def post_pending(
    session: Session,
    actor: Actor,
    *,
    key: str,
    pending_id: str,
    amount: int | None = None,
    code: str | None = None,
    at: datetime | None = None,
) -> LedgerTransfer:
    """Posts a pending transfer: all it reserved, or ``amount`` of it (the rest is freed)."""
    code = code or _pending_code(session, pending_id)
    spec = Spec(key=key, code=code, amount=amount, kind="post", pending_id=pending_id)
    return post_batch(session, actor, transfers=[spec], at=at)[0]


def void_pending(
    session: Session,
    actor: Actor,
    *,
    key: str,
    pending_id: str,
    code: str | None = None,
    at: datetime | None = None,
) -> LedgerTransfer:
    """Frees what a pending transfer reserved."""
    code = code or _pending_code(session, pending_id)
    spec = Spec(key=key, code=code, kind="void", pending_id=pending_id)
    return post_batch(session, actor, transfers=[spec], at=at)[0]


def reverse(
    session: Session,
    actor: Actor,
    *,
    key: str,
    transfer_id: str,
    amount: int | None = None,
    at: datetime | None = None,
) -> LedgerTransfer:
    """Corrects a posted transfer with one that moves (all or ``amount`` of) it back."""
    spec = Spec(key=key, code="reversal", amount=amount, kind="reversal", reverses_id=transfer_id)
    return post_batch(session, actor, transfers=[spec], at=at)[0]


def expire(session: Session, actor: Actor, *, now: datetime | None = None) -> int:
    """Voids every pending transfer whose timeout has passed (the tasks domain or ``yaosu
    market expire`` runs it); returns how many."""
    now = now or utcnow()
    due = list(
        session.execute(
            select(LedgerTransfer.id, LedgerTransfer.code)
            .where(
                LedgerTransfer.kind == "pending",
                LedgerTransfer.timeout_at.is_not(None),
                LedgerTransfer.timeout_at <= now,
                unresolved(),
            )
            .order_by(LedgerTransfer.id)
            .limit(10_000)
        )
    )
    specs = [Spec(key=f"expire:{tid}", code=code, kind="void", pending_id=tid) for tid, code in due]
    post_batch(session, actor, transfers=specs, at=now, audit=False)
    if specs:
        record(
            session,
            actor,
            action="ledger.expire",
            object_type="ledger",
            object_id="pending",
            detail={"voided": len(specs)},
        )
    return len(specs)


def unresolved() -> ColumnElement[bool]:
    """A pending transfer no post or void has resolved yet, as SQL: an anti-join on the
    unique ``pending_id`` (``NOT EXISTS``). ``id NOT IN (SELECT pending_id …)`` over a
    nullable column cannot be one: PostgreSQL rescans the subquery per row once it outgrows
    ``work_mem``, and a reconciliation of 100,000 orders did not finish."""
    resolver = aliased(LedgerTransfer)
    return ~exists().where(resolver.pending_id == LedgerTransfer.id)


def get_transfer(session: Session, *, transfer_id: str) -> LedgerTransfer:
    found = session.get(LedgerTransfer, transfer_id)
    if found is None:
        raise NotFound(kind=_("Transfer"), id=transfer_id)
    return found


# --- the steps of post_batch ----------------------------------------------------------------


def _check_spec(t: Spec) -> None:
    if t.kind not in KINDS:
        raise InvalidInput(problem=_("unknown transfer kind {kind}", kind=t.kind))
    if not t.key or len(t.key) > 120:
        raise InvalidInput(problem=_("an idempotency key is 1 to 120 characters"))
    if t.amount is not None and (
        not isinstance(t.amount, int) or isinstance(t.amount, bool) or not 0 < t.amount <= MAX_FEN
    ):
        raise InvalidInput(
            problem=_(
                "an amount is a whole number of fen, more than 0 and at most {max}", max=MAX_FEN
            )
        )
    if t.kind in ("single", "pending"):
        if t.amount is None or not t.debit or not t.credit:
            raise InvalidInput(problem=_("a transfer names two accounts and an amount"))
        if t.debit == t.credit:
            raise InvalidInput(problem=_("a transfer moves money between two different accounts"))
    if t.kind in ("post", "void") and not t.pending_id:
        raise InvalidInput(problem=_("a post or void names the pending transfer"))
    if t.kind == "reversal" and not t.reverses_id:
        raise InvalidInput(problem=_("a reversal names the transfer it reverses"))
    if t.timeout_seconds is not None and (t.kind != "pending" or t.timeout_seconds <= 0):
        raise InvalidInput(problem=_("only a pending transfer has a timeout, of at least 1 second"))


def _load(session: Session, *, ids: Iterable[Any]) -> dict[str, LedgerTransfer]:
    wanted = sorted(i for i in ids if i)
    found: dict[str, LedgerTransfer] = {}
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        found.update(
            (t.id, t)
            for t in session.scalars(select(LedgerTransfer).where(LedgerTransfer.id.in_(chunk)))
        )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(kind=_("Transfer"), id=missing[0])
    return found


def _resolve(t: Spec, refs: Mapping[str, LedgerTransfer]) -> dict[str, Any]:
    r: dict[str, Any] = {
        "key": t.key,
        "code": t.code,
        "kind": t.kind,
        "ref": t.ref,
        "pending_id": t.pending_id,
        "reverses_id": t.reverses_id,
        "timeout_at": None,
        "timeout_seconds": t.timeout_seconds,
    }
    if t.kind in ("single", "pending"):
        r.update(debit=t.debit, credit=t.credit, amount=t.amount)
    elif t.kind in ("post", "void"):
        p = refs[str(t.pending_id)]
        if p.kind != "pending":
            raise IllegalTransition(what=_("Transfer"), id=p.id, state=p.kind, target=t.kind)
        amount = p.amount if t.kind == "void" or t.amount is None else t.amount
        if amount > p.amount:
            raise InvalidInput(
                problem=_("a post may move at most the {amount} fen reserved", amount=p.amount)
            )
        r.update(debit=p.debit_account_id, credit=p.credit_account_id, amount=amount)
        r["ref"] = t.ref or p.ref
    else:
        o = refs[str(t.reverses_id)]
        if o.kind not in ("single", "post"):
            raise IllegalTransition(what=_("Transfer"), id=o.id, state=o.kind, target="reversal")
        amount = o.amount if t.amount is None else t.amount
        r.update(debit=o.credit_account_id, credit=o.debit_account_id, amount=amount)
        r["ref"] = t.ref or o.ref
    return r


def _lock(session: Session, *, ids: set[str]) -> dict[str, _Counters]:
    """The accounts' counters, their rows locked in id order (no two batches wait on each
    other in a circle)."""
    wanted = sorted(ids)
    out: dict[str, _Counters] = {}
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        stmt: Any = locked(
            select(  # type: ignore[type-var]
                LedgerAccount.id,
                LedgerAccount.debits_pending,
                LedgerAccount.debits_posted,
                LedgerAccount.credits_pending,
                LedgerAccount.credits_posted,
                LedgerAccount.normal,
                LedgerAccount.no_negative,
            )
            .where(LedgerAccount.id.in_(chunk))
            .order_by(LedgerAccount.id)
        )
        for row in session.execute(stmt):
            out[row[0]] = _Counters(row[1], row[2], row[3], row[4], row[5], bool(row[6]))
    missing = [a for a in wanted if a not in out]
    if missing:
        raise NotFound(kind=_("Ledger account"), id=missing[0])
    return out


def _existing(session: Session, *, keys: Sequence[str]) -> dict[str, LedgerTransfer]:
    found: dict[str, LedgerTransfer] = {}
    for i in range(0, len(keys), CHUNK):
        chunk = list(keys[i : i + CHUNK])
        found.update(
            (t.idempotency_key, t)
            for t in session.scalars(
                select(LedgerTransfer).where(LedgerTransfer.idempotency_key.in_(chunk))
            )
        )
    return found


def _resolved_pendings(session: Session, *, ids: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(ids), CHUNK):
        chunk = list(ids[i : i + CHUNK])
        out.update(
            session.scalars(
                select(LedgerTransfer.pending_id).where(LedgerTransfer.pending_id.in_(chunk))
            )
        )
    return out


def _reversed_amounts(session: Session, *, ids: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = list(ids[i : i + CHUNK])
        for tid, total in session.execute(
            select(LedgerTransfer.reverses_id, func.sum(LedgerTransfer.amount))
            .where(LedgerTransfer.reverses_id.in_(chunk))
            .group_by(LedgerTransfer.reverses_id)
        ):
            out[str(tid)] = int(total)
    return out


def _same(old: LedgerTransfer, r: Mapping[str, Any]) -> bool:
    return (
        old.debit_account_id == r["debit"]
        and old.credit_account_id == r["credit"]
        and old.amount == r["amount"]
        and old.code == r["code"]
        and old.kind == r["kind"]
        and old.pending_id == r["pending_id"]
        and old.reverses_id == r["reverses_id"]
        and (r["ref"] is None or old.ref == r["ref"])
    )


def _admit(
    r: dict[str, Any],
    *,
    refs: Mapping[str, LedgerTransfer],
    already: set[str],
    reversed_: dict[str, int],
    now: datetime,
) -> None:
    """Refuses a post or void of a pending already resolved or timed out, and a reversal of
    more than is left to reverse; notes the resolution for the rest of the batch."""
    if r["pending_id"]:
        p = refs[r["pending_id"]]
        if p.id in already:
            raise IllegalTransition(
                what=_("Pending transfer"), id=p.id, state=_("resolved"), target=r["kind"]
            )
        if r["kind"] == "post" and p.timeout_at is not None and p.timeout_at <= now:
            raise IllegalTransition(
                what=_("Pending transfer"), id=p.id, state=_("timed out"), target="post"
            )
        already.add(p.id)
    if r["reverses_id"]:
        o = refs[r["reverses_id"]]
        left = o.amount - reversed_.get(o.id, 0)
        if r["amount"] > left:
            raise InvalidInput(
                problem=_("only {left} fen of transfer {id} is left to reverse", left=left, id=o.id)
            )
        reversed_[o.id] = reversed_.get(o.id, 0) + r["amount"]


def _apply(
    r: Mapping[str, Any], *, accounts: dict[str, _Counters], refs: Mapping[str, LedgerTransfer]
) -> None:
    d, c, amount, kind = accounts[r["debit"]], accounts[r["credit"]], r["amount"], r["kind"]
    if kind == "pending":
        d.dp += amount
        c.cp += amount
    elif kind in ("post", "void"):
        reserved = refs[r["pending_id"]].amount
        d.dp -= reserved
        c.cp -= reserved
        if kind == "post":
            d.dq += amount
            c.cq += amount
    else:
        d.dq += amount
        c.cq += amount
    d.changed = c.changed = True
    for account_id, a in ((r["debit"], d), (r["credit"], c)):
        if a.no_negative and _below_zero(a):
            raise InsufficientFunds(account=account_id)


def _below_zero(a: _Counters) -> bool:
    if a.normal == "credit":
        return a.dp + a.dq > a.cq
    return a.cp + a.cq > a.dq


def _write(session: Session, *, rows: list[dict[str, Any]], accounts: dict[str, _Counters]) -> None:
    columns = (
        "id",
        "idempotency_key",
        "debit_account_id",
        "credit_account_id",
        "amount",
        "code",
        "kind",
        "ref",
        "pending_id",
        "reverses_id",
        "timeout_at",
        "batch_id",
        "created_at",
    )
    values = [
        {
            "id": r["id"],
            "idempotency_key": r["key"],
            "debit_account_id": r["debit"],
            "credit_account_id": r["credit"],
            "amount": r["amount"],
            "code": r["code"],
            "kind": r["kind"],
            "ref": r["ref"],
            "pending_id": r["pending_id"],
            "reverses_id": r["reverses_id"],
            "timeout_at": r["timeout_at"],
            "batch_id": r["batch_id"],
            "created_at": r["created_at"],
        }
        for r in rows
    ]
    assert all(len(v) == len(columns) for v in values)
    table = TRANSFERS
    accounts_table = ACCOUNTS
    changed = [
        {
            "b_id": account_id,
            "b_dp": a.dp,
            "b_dq": a.dq,
            "b_cp": a.cp,
            "b_cq": a.cq,
        }
        for account_id, a in accounts.items()
        if a.changed
    ]
    conn = session.connection()
    try:
        with session.begin_nested():
            for i in range(0, len(values), CHUNK * 10):
                conn.execute(insert(table), values[i : i + CHUNK * 10])
            conn.execute(
                update(accounts_table)
                .where(accounts_table.c.id == bindparam("b_id"))
                .values(
                    debits_pending=bindparam("b_dp"),
                    debits_posted=bindparam("b_dq"),
                    credits_pending=bindparam("b_cp"),
                    credits_posted=bindparam("b_cq"),
                ),
                changed,
            )
    except IntegrityError as exc:
        # Another transaction wrote the same idempotency key (or resolved the same pending)
        # between our check and our insert: its content may differ, so refuse, and let the
        # caller retry (a retry then finds the original).
        raise IdempotencyConflict(key=rows[0]["key"]) from exc
    session.expire_all()


def _transfer(r: Mapping[str, Any]) -> LedgerTransfer:
    return LedgerTransfer(
        id=r["id"],
        idempotency_key=r["key"],
        debit_account_id=r["debit"],
        credit_account_id=r["credit"],
        amount=r["amount"],
        code=r["code"],
        kind=r["kind"],
        ref=r["ref"],
        pending_id=r["pending_id"],
        reverses_id=r["reverses_id"],
        timeout_at=r["timeout_at"],
        batch_id=r["batch_id"],
        created_at=r["created_at"],
    )


def _pending_code(session: Session, pending_id: str) -> str:
    return get_transfer(session, transfer_id=pending_id).code
