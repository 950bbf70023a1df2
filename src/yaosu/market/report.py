"""年度经营情况报告: an authorised operator's annual report on public-data operation,
generated from the ledger and the orders, never typed in.

For a calendar year (China Standard Time) it states: the revenue posted to the operator's
revenue and operator-fee accounts (from the ledger's transfers) beside its revenue periods'
allowed revenue (最高准许收入) and what each counted against it; its public-data products with
their pricing class, price, cap (上限收费标准) and whether the price keeps under it, orders
and units sold; the free service it gave for public governance and welfare (orders and
units, by purpose); and the year's disputes with how each ended. Its operator and oversight
(the authorising body, the platform) read it, as they read its revenue periods.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, enforce
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, NotFound
from yaosu.kernel.i18n import _
from yaosu.market import periods, pricing, settlement
from yaosu.market.models import LedgerAccount, LedgerTransfer, Order, Product, RevenuePeriod
from yaosu.market.states import OrderState

FIRST_YEAR, LAST_YEAR = 2000, 2100


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A calendar year in China Standard Time, as UTC instants [start, end)."""
    return (
        settlement.period_bounds(date(year, 1, 1))[0],
        settlement.period_bounds(date(year + 1, 1, 1))[0],
    )


def annual_report(
    session: Session, actor: Actor, *, operator_org_id: str, year: int
) -> dict[str, Any]:
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            problem=_("the year is from {first} to {last}", first=FIRST_YEAR, last=LAST_YEAR)
        )
    operator = accounts.find_org(session, org_id=operator_org_id)
    if operator is None:
        raise NotFound(kind=_("Organisation"), id=operator_org_id)
    enforce(actor, "period.view", Resource("period", "*", operator_org_id))
    start, end = year_bounds(year)
    report: dict[str, Any] = {
        "year": year,
        "operator": {"id": operator.id, "name": operator.name, "uscc": operator.uscc},
        "revenue": _revenue(session, operator_org_id, start, end),
        "periods": _periods(session, operator_org_id, start, end),
        "products": _products(session, operator_org_id, start, end),
        "free_service": _free(session, operator_org_id, start, end),
        "disputes": _disputes(session, operator_org_id, start, end),
    }
    record(
        session,
        actor,
        action="period.report",
        object_type="period",
        object_id=f"{operator_org_id}:{year}",
        object_org_id=operator_org_id,
        request={"year": year},
        detail={"revenue_fen": report["revenue"]["total_fen"]},
    )
    return report


def _revenue(session: Session, org_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """What the ledger posted to the operator's revenue and operator-fee accounts in the year
    (reversals taken off)."""
    accounts_ = dict(
        session.execute(
            select(LedgerAccount.id, LedgerAccount.code).where(
                LedgerAccount.org_id == org_id,
                LedgerAccount.code.in_(("revenue", "operator_fee")),
            )
        ).all()
    )
    sums: dict[str, int] = {"revenue": 0, "operator_fee": 0}
    if accounts_:
        moved = (
            select(
                LedgerTransfer.debit_account_id,
                LedgerTransfer.credit_account_id,
                func.sum(LedgerTransfer.amount),
            )
            .where(
                LedgerTransfer.kind.in_(settlement.POSTED),
                LedgerTransfer.created_at >= start,
                LedgerTransfer.created_at < end,
                (LedgerTransfer.credit_account_id.in_(accounts_))
                | (LedgerTransfer.debit_account_id.in_(accounts_)),
            )
            .group_by(LedgerTransfer.debit_account_id, LedgerTransfer.credit_account_id)
        )
        for debit, credit, amount in session.execute(moved):
            if credit in accounts_:
                sums[accounts_[credit]] += int(amount)
            if debit in accounts_:
                sums[accounts_[debit]] -= int(amount)
    return {
        "revenue_fen": sums["revenue"],
        "operator_fee_fen": sums["operator_fee"],
        "total_fen": sums["revenue"] + sums["operator_fee"],
    }


def _periods(session: Session, org_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    found = session.scalars(
        select(RevenuePeriod)
        .where(
            RevenuePeriod.operator_org_id == org_id,
            RevenuePeriod.starts_at < end,
            RevenuePeriod.ends_at > start,
        )
        .order_by(RevenuePeriod.starts_at)
    )
    out = []
    for p in found:
        allowed = periods.allowed_fen(p)
        out.append(
            {
                "id": p.id,
                "starts_at": p.starts_at.isoformat(),
                "ends_at": p.ends_at.isoformat(),
                "status": p.status,
                "allowed_fen": allowed,
                "revenue_fen": p.revenue_fen,
                "deduction_fen": p.deduction_fen,
                "excess_fen": pricing.excess(revenue_fen=p.revenue_fen, allowed_fen=allowed),
            }
        )
    return out


def _orders_in(
    session: Session, org_id: str, start: datetime, end: datetime, *states: str
) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.seller_org_id == org_id,
                Order.status.in_(states),
                Order.updated_at >= start,
                Order.updated_at < end,
            )
            .order_by(Order.created_at)
        )
    )


def _products(
    session: Session, org_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    sold: dict[str, list[Order]] = defaultdict(list)
    for order in _orders_in(session, org_id, start, end, OrderState.accepted):
        sold[order.product_id].append(order)
    out = []
    for product in session.scalars(
        select(Product)
        .where(Product.seller_org_id == org_id, Product.public_data.is_(True))
        .order_by(Product.title, Product.id)
    ):
        rule = pricing.parse_rule(product.price)
        paid = [o for o in sold[product.id] if o.amount_fen]
        highest = rule.highest_unit_fen()
        out.append(
            {
                "id": product.id,
                "title": product.title,
                "status": product.status,
                "pricing_class": product.pricing_class,
                "price": product.price,
                "cap_unit_fen": product.cap_unit_fen,
                "highest_unit_fen": highest,
                "within_cap": product.cap_unit_fen is None or highest <= product.cap_unit_fen,
                "trial": pricing.in_trial(product.first_listed_at, end - timedelta(seconds=1)),
                "orders": len(paid),
                "units": sum(o.quantity for o in paid),
                "revenue_fen": sum(o.seller_fen + o.operator_fee_fen for o in paid),
            }
        )
    return out


def _free(session: Session, org_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    free = [
        o
        for o in _orders_in(session, org_id, start, end, OrderState.accepted, OrderState.delivering)
        if o.pricing_class == "free"
    ]
    by_purpose: Counter[str] = Counter()
    for order in free:
        by_purpose[order.purpose] += order.quantity
    return {
        "orders": len(free),
        "units": sum(o.quantity for o in free),
        "by_purpose": dict(sorted(by_purpose.items())),
    }


def _disputes(session: Session, org_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    found = list(
        session.scalars(
            select(Order)
            .where(
                Order.seller_org_id == org_id,
                Order.disputed_at.is_not(None),
                Order.disputed_at >= start,
                Order.disputed_at < end,
            )
            .order_by(Order.disputed_at)
        )
    )
    return {
        "count": len(found),
        "open": sum(o.status == OrderState.disputed for o in found),
        "released": sum(o.ended_because == "released_on_decision" for o in found),
        "refunded": sum(o.status == OrderState.refunded for o in found),
        "amount_fen": sum(o.amount_fen for o in found),
        "items": [
            {
                "order": o.id,
                "status": o.status,
                "ended_because": o.ended_because,
                "amount_fen": o.amount_fen,
                "regulator_asked": o.regulator_asked,
            }
            for o in found
        ],
    }
