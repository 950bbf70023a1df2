"""Payments by bank transfer: what the platform expects (an amount, a payer and a reference
code ``YSP-XXXXXXXX`` the payer quotes in the transfer's memo) and the bank statement files
(CSV as Chinese online banking exports them) a platform administrator imports against them.

A file is read whole before anything is written: GBK (GB18030) or UTF-8 with or without a
BOM; the header row is found below any preamble (account number, period) and tells the
layout: ICBC's 记账金额(收入), CCB's 贷方发生额, ABC's signed 交易金额 with 对手信息, or the
plain 交易日期/摘要/收入金额/对方户名. Amounts are read as ``Decimal`` and kept as integer fen,
never as floats. A malformed row, an amount that overflows, or a file imported before is
refused with its row number and nothing is written. Each incoming line is then ``matched``
(it pays what is still due), ``partial`` (less) or ``unmatched`` (no known reference, a
payment no longer expected (its order was cancelled), or more than is due: a person decides); matched and partial lines post a transfer from the bank
account into the payer's escrow.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization.policy import enforce
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import Conflict, InvalidInput, NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.market import ledger
from yaosu.market.models import BankImport, BankLine, PaymentExpectation
from yaosu.market.settlement import LEDGER

_CODE = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
REFERENCE = re.compile(r"YSP-[0-9A-HJKMNP-TV-Z]{8}")
MAX_FILE_BYTES = 20 * 1024**2
MAX_ROWS = 100_000
LINES: Table = BankLine.__table__  # type: ignore[assignment]


def new_reference() -> str:
    return "YSP-" + "".join(secrets.choice(_CODE) for _ in range(8))


def expect_payment(
    session: Session, actor: Actor, *, org_id: str, amount: int, ref: str | None = None
) -> PaymentExpectation:
    """A payment of ``amount`` fen that ``org_id`` is to make, with the reference it quotes.
    Called by the step that needs the money (an order), which has authorised its actor."""
    if not isinstance(amount, int) or not 0 < amount <= ledger.MAX_FEN:
        raise InvalidInput(problem=_("an expected payment is more than 0 fen"))
    accounts.get_org(session, org_id=org_id)
    expectation = PaymentExpectation(
        id=new_id("pay"),
        reference=new_reference(),
        org_id=org_id,
        amount=amount,
        received=0,
        ref=ref,
        status="open",
    )
    session.add(expectation)
    session.flush()
    record(
        session,
        actor,
        action="ledger.expect",
        object_type="ledger",
        object_id=expectation.id,
        object_org_id=org_id,
        detail={"reference": expectation.reference, "amount": amount, "ref": ref},
    )
    return expectation


def expectations(session: Session, *, open_only: bool = False) -> list[PaymentExpectation]:
    stmt = select(PaymentExpectation).order_by(PaymentExpectation.created_at.desc()).limit(500)
    if open_only:
        stmt = stmt.where(PaymentExpectation.status.in_(("open", "partial")))
    return list(session.scalars(stmt))


# --- reading a bank file -------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    name: str
    date: tuple[str, ...]
    counterparty: tuple[str, ...]
    memo: tuple[str, ...]
    income: tuple[str, ...] = ()  # a column of incoming amounts
    signed: tuple[str, ...] = ()  # a column of signed amounts (+ in, - out)


LAYOUTS = (
    Layout(
        "icbc",
        date=("交易日期",),
        income=("记账金额(收入)", "记账金额（收入）"),
        counterparty=("对方户名",),
        memo=("摘要", "交易场所"),
    ),
    Layout(
        "ccb",
        date=("交易日期", "交易时间", "记账日期"),
        income=("贷方发生额（收入）", "贷方发生额(收入)", "贷方发生额"),
        counterparty=("对方户名",),
        memo=("摘要", "备注", "用途", "附言"),
    ),
    Layout(
        "abc",
        date=("交易日期",),
        signed=("交易金额",),
        counterparty=("对手信息", "对方户名"),
        memo=("交易摘要", "交易附言", "交易用途"),
    ),
    Layout(
        "generic",
        date=("交易日期",),
        income=("收入金额",),
        counterparty=("对方户名",),
        memo=("摘要", "附言", "备注", "用途"),
    ),
)


@dataclass(frozen=True)
class Incoming:
    row: int
    booked_on: date
    amount: int
    counterparty: str
    memo: str
    reference: str | None


def decode(data: bytes) -> tuple[str, str]:
    """The text of a bank file and the encoding it was in: UTF-8 (a BOM is dropped) or, as
    most online banking still exports, GBK (read as GB18030, its superset)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            problem=_("the file is neither UTF-8 nor GBK text; export it again as CSV")
        ) from exc


def _find(header: list[str], names: tuple[str, ...]) -> list[int]:
    return [header.index(n) for n in names if n in header]


def _layout(rows: list[list[str]]) -> tuple[int, Layout, dict[str, list[int]]]:
    for i, raw in enumerate(rows[:30]):
        header = [c.strip() for c in raw]
        for layout in LAYOUTS:
            cols = {
                "date": _find(header, layout.date)[:1],
                "income": _find(header, layout.income)[:1],
                "signed": _find(header, layout.signed)[:1],
                "counterparty": _find(header, layout.counterparty)[:1],
                "memo": _find(header, layout.memo),
            }
            amount = cols["income"] or cols["signed"]
            if cols["date"] and amount and cols["counterparty"]:
                return i, layout, cols
    raise InvalidInput(
        problem=_(
            "no header row found: a bank statement has 交易日期, an income column "
            "(收入金额, 记账金额(收入), 贷方发生额 or 交易金额) and 对方户名 or 对手信息"
        )
    )


_DATE = re.compile(r"^(\d{4})[-/年.]?(\d{1,2})[-/月.]?(\d{1,2})日?")


def _date(text: str, row: int) -> date:
    m = _DATE.match(text.strip())
    if m is None:
        raise InvalidInput(problem=_("row {row}: {value} is not a date", row=row, value=text))
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise InvalidInput(
            problem=_("row {row}: {value} is not a date", row=row, value=text)
        ) from exc


def _amount(text: str, row: int) -> int:
    """Fen, exactly, from a bank's amount text: thousands separators, a sign, blank or "-"
    for none."""
    cleaned = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    if cleaned in ("", "-", "--"):
        return 0
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise InvalidInput(
            problem=_("row {row}: {value} is not an amount", row=row, value=text.strip())
        ) from exc
    exponent = value.as_tuple().exponent
    if not value.is_finite() or not isinstance(exponent, int) or exponent < -2:
        raise InvalidInput(
            problem=_("row {row}: {value} is not an amount", row=row, value=text.strip())
        )
    fen = int(value * 100)
    if abs(fen) > ledger.MAX_FEN:
        raise InvalidInput(
            problem=_("row {row}: the amount {value} is too large", row=row, value=text.strip())
        )
    return fen


def parse(data: bytes) -> tuple[str, str, list[Incoming]]:
    """(layout, encoding, incoming lines) of a bank statement file; outgoing lines and the
    summary rows at the end (人民币合计…) are passed over. Refuses the whole file at its first
    malformed row."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(problem=_("a bank statement file is at most 20 MB"))
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for raw in reader:
            rows.append((reader.line_num, raw))
            if len(rows) > MAX_ROWS:
                raise InvalidInput(problem=_("a bank statement file has at most 100,000 rows"))
    except csv.Error as exc:
        raise InvalidInput(
            problem=_("row {row}: not valid CSV ({exc})", row=reader.line_num, exc=str(exc))
        ) from exc
    at, layout, cols = _layout([r for _, r in rows])
    width = max(i for c in cols.values() for i in c) + 1
    out = []
    for line_no, raw in rows[at + 1 :]:
        cells = [c.strip() for c in raw]
        if not any(cells):
            continue
        if any(word in cells[0] for word in ("合计", "总计", "小计")):
            continue  # the export's summary rows
        if len(cells) < width:
            raise InvalidInput(
                problem=_(
                    "row {row} has {n} columns; the header has at least {width}",
                    row=line_no,
                    n=len(cells),
                    width=width,
                )
            )
        booked = _date(cells[cols["date"][0]], line_no)
        if cols["income"]:
            amount = _amount(cells[cols["income"][0]], line_no)
        else:
            amount = _amount(cells[cols["signed"][0]], line_no)
        if amount <= 0:
            continue  # money going out, or nothing
        memo = " ".join(cells[i] for i in cols["memo"] if cells[i])
        found = REFERENCE.search(" ".join(cells).upper())
        out.append(
            Incoming(
                row=line_no,
                booked_on=booked,
                amount=amount,
                counterparty=cells[cols["counterparty"][0]][:200],
                memo=memo[:2000],
                reference=found.group(0) if found else None,
            )
        )
    return layout.name, encoding, out


def import_statement(
    session: Session,
    actor: Actor,
    *,
    data: bytes,
    filename: str,
    at: datetime | None = None,
) -> BankImport:
    """Imports one bank statement file, matches its incoming lines and posts what matched;
    the same file twice is refused."""
    enforce(actor, "ledger.import", LEDGER)
    digest = hashlib.sha256(data).hexdigest()
    earlier = session.scalar(select(BankImport).where(BankImport.sha256 == digest))
    if earlier is not None:
        raise Conflict(what=_("This bank statement file"), value=earlier.filename)
    layout, encoding, incoming = parse(data)
    platform = ledger.platform_org_id(session)
    bank = ledger.open_account(session, org_id=platform, code="bank")
    imported = BankImport(
        id=new_id("bnk"),
        sha256=digest,
        filename=filename[:200] or "statement.csv",
        layout=layout,
        encoding=encoding,
        rows=len(incoming),
        imported_by=actor.username,
    )
    session.add(imported)
    session.flush()
    due = {
        e.reference: e
        for e in session.scalars(
            select(PaymentExpectation).where(
                PaymentExpectation.reference.in_({i.reference for i in incoming if i.reference}),
                PaymentExpectation.status.in_(("open", "partial")),
            )
        )
    }
    lines, specs = [], []
    counts = {"matched": 0, "partial": 0, "unmatched": 0}
    for item in incoming:
        line_id = new_id("bkl")
        expectation = due.get(item.reference or "")
        left = expectation.amount - expectation.received if expectation else 0
        if expectation is None or item.amount > left:
            status = "unmatched"
        else:
            status = "matched" if item.amount == left else "partial"
            expectation.received += item.amount
            expectation.status = "paid" if expectation.received == expectation.amount else "partial"
            escrow = ledger.open_account(session, org_id=expectation.org_id, code="escrow")
            specs.append(
                ledger.Spec(
                    key=f"bank:{digest[:32]}:{item.row}",
                    code="bank_receipt",
                    amount=item.amount,
                    debit=bank,
                    credit=escrow,
                    ref=line_id,
                )
            )
        counts[status] += 1
        lines.append(
            {
                "id": line_id,
                "import_id": imported.id,
                "row": item.row,
                "booked_on": item.booked_on,
                "amount": item.amount,
                "counterparty": item.counterparty,
                "memo": item.memo,
                "reference": item.reference,
                "expectation_id": expectation.id if status != "unmatched" and expectation else None,
                "status": status,
                "transfer_id": None,
            }
        )
    posted = {str(t.ref): t.id for t in ledger.post_batch(session, actor, transfers=specs, at=at)}
    for line in lines:
        line["transfer_id"] = posted.get(str(line["id"]))
    if lines:
        session.execute(insert(LINES), lines)
    record(
        session,
        actor,
        action="ledger.import",
        object_type="ledger",
        object_id=imported.id,
        detail={"filename": imported.filename, "layout": layout, "lines": len(lines), **counts},
    )
    return imported


def get_import(session: Session, actor: Actor, *, import_id: str) -> BankImport:
    """An imported bank statement, for those who see the reconciliation."""
    enforce(actor, "ledger.reconcile", LEDGER)
    found = session.get(BankImport, import_id)
    if found is None:
        raise NotFound(kind=_("Bank statement"), id=import_id)
    return found


def lines_of(session: Session, *, import_id: str) -> list[BankLine]:
    if session.get(BankImport, import_id) is None:
        raise NotFound(kind=_("Bank statement"), id=import_id)
    return list(
        session.scalars(
            select(BankLine).where(BankLine.import_id == import_id).order_by(BankLine.row)
        )
    )


def imports(session: Session) -> list[BankImport]:
    return list(
        session.scalars(select(BankImport).order_by(BankImport.created_at.desc()).limit(100))
    )


def summary(session: Session, *, import_id: str) -> dict[str, Any]:
    counts = {"matched": 0, "partial": 0, "unmatched": 0}
    for line in lines_of(session, import_id=import_id):
        counts[line.status] += 1
    return counts
