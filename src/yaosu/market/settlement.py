"""Clearing and settlement (清结算): a batch that nets each participant's positions over one
period and writes a settlement statement per participant, and the reconciliation report that
proves ledger = statements = bank.

A period is a calendar day in China Standard Time (UTC+8, no daylight saving). A day is
settled ``YAOSU_SETTLEMENT_LAG_DAYS`` days later (T+1 by default): by then no transfer can
still be dated in it, so its statements never change. Running a settled day again returns
the statements it already has (the run is idempotent), and the database keeps one statement
per participant and day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import InvalidInput, NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.market import ledger
from yaosu.market.models import (
    BankLine,
    LedgerAccount,
    LedgerTransfer,
    SettlementStatement,
)

CST = timezone(timedelta(hours=8), "CST")
POSTED = ("single", "post", "reversal")  # the kinds that move posted balances

LEDGER = Resource("ledger", "ledger")

# ``statement_resource`` as SQL, for listings.
ROWS = Rows("ledger", SettlementStatement.org_id)


def statement_resource(statement: SettlementStatement) -> Resource:
    return Resource("ledger", statement.id, statement.org_id)


def cst_day(moment: datetime) -> date:
    """The day in China Standard Time that ``moment`` falls on.

    >>> cst_day(datetime(2026, 12, 2, 16, 0, tzinfo=UTC)), cst_day(datetime(2026, 12, 2, 15, 59, tzinfo=UTC))
    (datetime.date(2026, 12, 3), datetime.date(2026, 12, 2))
    """
    return moment.astimezone(CST).date()


def period_bounds(period: date) -> tuple[datetime, datetime]:
    """The period as a half-open interval of UTC instants: [00:00 CST, next 00:00 CST)."""
    start = datetime.combine(period, time(0), CST).astimezone(UTC)
    return start, start + timedelta(days=1)


def last_clearable(*, lag_days: int, now: datetime | None = None) -> date:
    """The latest day a run at ``now`` may settle: today in CST less the lag."""
    return cst_day(now or utcnow()) - timedelta(days=lag_days)


@dataclass
class Position:
    org_id: str
    debits: int = 0
    credits: int = 0
    postings: int = 0
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def net(self) -> int:
        return self.credits - self.debits


def positions(session: Session, *, period: date) -> dict[str, Position]:
    """Each participant's posted movements in ``period``, netted per account (two grouped
    queries, however many transfers the day had)."""
    start, end = period_bounds(period)
    names = {
        a.id: (a.org_id, a.code)
        for a in session.execute(select(LedgerAccount.id, LedgerAccount.org_id, LedgerAccount.code))
    }
    out: dict[str, Position] = {}
    in_period = (
        LedgerTransfer.created_at >= start,
        LedgerTransfer.created_at < end,
        LedgerTransfer.kind.in_(POSTED),
    )
    for side, column in (
        ("debits", LedgerTransfer.debit_account_id),
        ("credits", LedgerTransfer.credit_account_id),
    ):
        grouped = session.execute(
            select(column, func.sum(LedgerTransfer.amount), func.count())
            .where(*in_period)
            .group_by(column)
        )
        for account_id, total, count in grouped:
            org_id, code = names[account_id]
            pos = out.setdefault(org_id, Position(org_id))
            line = pos.lines.setdefault(
                account_id, {"account": account_id, "code": code, "debits": 0, "credits": 0}
            )
            line[side] += int(total)
            setattr(pos, side, getattr(pos, side) + int(total))
            pos.postings += int(count)
    return out


def settle(
    session: Session,
    actor: Actor,
    *,
    lag_days: int,
    period: date | None = None,
    now: datetime | None = None,
) -> list[SettlementStatement]:
    """Clears ``period`` (by default the latest clearable day) and returns its statements,
    one per participant that moved money that day; a settled day returns what it has."""
    enforce(actor, "ledger.settle", LEDGER)
    latest = last_clearable(lag_days=lag_days, now=now)
    period = period or latest
    if period > latest:
        raise InvalidInput(
            problem=_(
                "{period} can be settled from {day} on (T+{lag}, days in China Standard Time)",
                period=period.isoformat(),
                day=(period + timedelta(days=lag_days)).isoformat(),
                lag=lag_days,
            )
        )
    done = statements_of(session, period=period)
    if done:
        return done
    found = positions(session, period=period)
    if sum(p.net for p in found.values()) != 0:  # each transfer has both its sides in here
        raise AssertionError(f"period {period} does not net to zero")
    made = []
    for n, org_id in enumerate(sorted(found), start=1):
        pos = found[org_id]
        made.append(
            SettlementStatement(
                id=new_id("stl"),
                number=f"STL-{period:%Y%m%d}-{n:04d}",
                org_id=org_id,
                period=period,
                debits=pos.debits,
                credits=pos.credits,
                net=pos.net,
                postings=pos.postings,
                lines=sorted(pos.lines.values(), key=lambda line: (line["code"], line["account"])),
                settled_by=actor.username,
            )
        )
    session.add_all(made)
    session.flush()
    record(
        session,
        actor,
        action="ledger.settle",
        object_type="ledger",
        object_id=period.isoformat(),
        detail={"statements": len(made), "postings": sum(s.postings for s in made)},
    )
    return made


def statements_of(session: Session, *, period: date) -> list[SettlementStatement]:
    return list(
        session.scalars(
            select(SettlementStatement)
            .where(SettlementStatement.period == period)
            .order_by(SettlementStatement.number)
        )
    )


def list_statements(
    session: Session,
    actor: Actor,
    *,
    org_id: str | None = None,
    period: date | None = None,
    limit: int = 200,
) -> list[SettlementStatement]:
    """The statements the actor may see (``ledger.view``), newest period first."""
    stmt = (
        select(SettlementStatement)
        .where(visible(actor, "ledger.view", ROWS))
        .order_by(SettlementStatement.period.desc(), SettlementStatement.number)
        .limit(limit)
    )
    if org_id:
        stmt = stmt.where(SettlementStatement.org_id == org_id)
    if period:
        stmt = stmt.where(SettlementStatement.period == period)
    return list(session.scalars(stmt))


def get_statement(session: Session, actor: Actor, *, statement_id: str) -> SettlementStatement:
    found = session.get(SettlementStatement, statement_id)
    if found is None:
        raise NotFound(kind=_("Settlement statement"), id=statement_id)
    enforce(actor, "ledger.view", statement_resource(found))
    return found


# --- reconciliation ------------------------------------------------------------------------


def _sums(session: Session, *, kinds: tuple[str, ...], open_only: bool = False) -> Any:
    """Per account: (debits, credits) of the transfers of ``kinds`` (with ``open_only``,
    pendings not yet posted or voided)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    where: list[ColumnElement[bool]] = [LedgerTransfer.kind.in_(kinds)]
    if open_only:
        where.append(ledger.unresolved())
    for i, column in enumerate((LedgerTransfer.debit_account_id, LedgerTransfer.credit_account_id)):
        for account_id, total in session.execute(
            select(column, func.sum(LedgerTransfer.amount)).where(*where).group_by(column)
        ):
            out[account_id][i] = int(total)
    return out


def reconciliation(session: Session, actor: Actor, *, lag_days: int) -> dict[str, Any]:
    """Ledger = statements = bank, checked from the transfers up:

    - every account's four counters equal the sums of its transfers (posted and still pending);
    - the ledger balances: all debits equal all credits;
    - every settled day's statements equal the day's transfers, recomputed, and net to zero;
    - every bank line matched to an order has its one transfer into the bank account, of its
      amount, and every such transfer has its line; unmatched lines are listed, not posted.
    """
    enforce(actor, "ledger.reconcile", LEDGER)
    posted = _sums(session, kinds=POSTED)
    pending = _sums(session, kinds=("pending",), open_only=True)
    accounts = list(session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)))
    account_problems = []
    for a in accounts:
        want = (*pending.get(a.id, (0, 0)), *posted.get(a.id, (0, 0)))
        have = (a.debits_pending, a.credits_pending, a.debits_posted, a.credits_posted)
        if want != have:
            account_problems.append({"account": a.id, "counters": have, "transfers": want})
    total_debits = sum(a.debits_posted for a in accounts)
    total_credits = sum(a.credits_posted for a in accounts)

    statement_problems = []
    periods = list(
        session.scalars(select(SettlementStatement.period).distinct().order_by("period"))
    )
    settled_net = 0
    for period in periods:
        again = positions(session, period=period)
        stored = {s.org_id: s for s in statements_of(session, period=period)}
        for org_id in sorted(set(again) | set(stored)):
            st, pos = stored.get(org_id), again.get(org_id)
            stored_is = (st.debits, st.credits, st.net) if st else None
            again_is = (pos.debits, pos.credits, pos.net) if pos else None
            if stored_is != again_is:
                statement_problems.append(
                    {
                        "period": period.isoformat(),
                        "org": org_id,
                        "have": stored_is,
                        "want": again_is,
                    }
                )
        settled_net += sum(s.net for s in stored.values())
    latest = last_clearable(lag_days=lag_days)
    first = session.scalar(select(func.min(LedgerTransfer.created_at)))
    unsettled = []
    if first is not None:
        day = max(cst_day(first), latest - timedelta(days=366))
        done = set(periods)
        while day <= latest:
            if day not in done and positions(session, period=day):
                unsettled.append(day.isoformat())
            day += timedelta(days=1)

    receipts = {
        t.ref: t
        for t in session.scalars(
            select(LedgerTransfer).where(LedgerTransfer.code == "bank_receipt")
        )
    }
    lines = list(session.scalars(select(BankLine).order_by(BankLine.import_id, BankLine.row)))
    bank_problems = []
    for line in lines:
        t = receipts.pop(line.id, None)
        if line.status == "unmatched":
            if t is not None:
                bank_problems.append({"line": line.id, "problem": "posted_unmatched"})
        elif t is None or t.amount != line.amount or t.id != line.transfer_id:
            bank_problems.append({"line": line.id, "problem": "missing_transfer"})
    bank_problems.extend({"transfer": t.id, "problem": "missing_line"} for t in receipts.values())
    received = sum(line.amount for line in lines if line.status != "unmatched")
    unmatched = [line for line in lines if line.status == "unmatched"]
    return {
        "ok": not (account_problems or statement_problems or bank_problems)
        and total_debits == total_credits,
        "accounts": len(accounts),
        "account_problems": account_problems,
        "debits": total_debits,
        "credits": total_credits,
        "periods": [p.isoformat() for p in periods],
        "settled_net": settled_net,
        "statement_problems": statement_problems,
        "unsettled": unsettled,
        "bank_lines": len(lines),
        "bank_received": received,
        "bank_problems": bank_problems,
        "unmatched": [
            {
                "line": line.id,
                "row": line.row,
                "booked_on": line.booked_on.isoformat(),
                "amount": line.amount,
                "counterparty": line.counterparty,
                "memo": line.memo,
            }
            for line in unmatched
        ],
        "unmatched_amount": sum(line.amount for line in unmatched),
    }
