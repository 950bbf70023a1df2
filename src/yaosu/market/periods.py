"""最高准许收入: an authorised operator of public data may earn, per period, at most its
operating cost plus an allowed profit plus tax. The authorising body (数据局) opens each
period with those figures; revenue from its capped products counts against it
(``add_revenue``, which orders call); closing a period carries any excess over into the
next period's deduction, so revenue above the allowed revenue reduces the next period's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked
from yaosu.kernel.errors import InvalidInput, NotFound, NotNow
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.states import transition
from yaosu.market import pricing
from yaosu.market.models import RevenuePeriod
from yaosu.market.states import PERIOD_MOVES, PeriodState


def period_resource(period: RevenuePeriod) -> Resource:
    return Resource("period", period.id, period.operator_org_id, {"status": period.status})


ROWS = Rows("period", RevenuePeriod.operator_org_id, {"status": RevenuePeriod.status})


def allowed_fen(period: RevenuePeriod) -> int:
    return pricing.allowed_revenue(
        cost_fen=period.cost_fen,
        profit_fen=period.profit_fen,
        tax_fen=period.tax_fen,
        deduction_fen=period.deduction_fen,
    )


def _fen(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= pricing.MAX_FEN:
        raise InvalidInput(
            problem=_(
                "{name} must be a whole number of fen from 0 to {max}",
                name=name,
                max=pricing.MAX_FEN,
            )
        )
    return value


def open_period(
    session: Session,
    actor: Actor,
    *,
    operator_org_id: str,
    starts_at: datetime,
    ends_at: datetime,
    cost_fen: int,
    profit_fen: int,
    tax_fen: int,
) -> RevenuePeriod:
    """The authorising body opens an operator's period; the last closed period's excess, if
    any, is its deduction."""
    enforce(actor, "period.manage", Resource("period", "*", operator_org_id))
    if ends_at <= starts_at:
        raise InvalidInput(problem=_("a period ends after it starts"))
    figures = {
        n: _fen(n, v)
        for n, v in (("cost_fen", cost_fen), ("profit_fen", profit_fen), ("tax_fen", tax_fen))
    }
    if current_period(session, operator_org_id=operator_org_id) is not None:
        raise NotNow(
            what=_("Revenue period"),
            id=operator_org_id,
            why=_("the operator's current period is still open: close it first"),
        )
    previous = session.scalar(
        select(RevenuePeriod)
        .where(RevenuePeriod.operator_org_id == operator_org_id)
        .order_by(RevenuePeriod.ends_at.desc())
        .limit(1)
    )
    if previous is not None and starts_at < previous.ends_at:
        raise InvalidInput(problem=_("a period starts after the previous one ends"))
    deduction = (
        pricing.excess(revenue_fen=previous.revenue_fen, allowed_fen=allowed_fen(previous))
        if previous is not None
        else 0
    )
    period = RevenuePeriod(
        id=new_id("per"),
        operator_org_id=operator_org_id,
        starts_at=starts_at,
        ends_at=ends_at,
        deduction_fen=deduction,
        revenue_fen=0,
        status=PeriodState.open,
        previous_id=previous.id if previous is not None else None,
        created_by=actor.id,
        **figures,
    )
    session.add(period)
    session.flush()
    record(
        session,
        actor,
        action="period.open",
        object_type="period",
        object_id=period.id,
        object_org_id=operator_org_id,
        request={**figures, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
        detail={"deduction_fen": deduction, "allowed_fen": allowed_fen(period)},
    )
    return period


def current_period(session: Session, *, operator_org_id: str) -> RevenuePeriod | None:
    return session.scalar(
        select(RevenuePeriod).where(
            RevenuePeriod.operator_org_id == operator_org_id,
            RevenuePeriod.status == PeriodState.open,
        )
    )


def add_revenue(
    session: Session, actor: Actor, *, operator_org_id: str, amount_fen: int, reference: str
) -> RevenuePeriod:
    """Counts revenue of a capped product (an order's, once orders exist) against the
    operator's open period, in the caller's transaction."""
    amount = _fen("amount_fen", amount_fen)
    found = current_period(session, operator_org_id=operator_org_id)
    if found is None:
        raise NotNow(
            what=_("Revenue period"), id=operator_org_id, why=_("the operator has no open period")
        )
    period = session.scalar(locked(select(RevenuePeriod).where(RevenuePeriod.id == found.id)))
    assert period is not None
    period.revenue_fen += amount
    record(
        session,
        actor,
        action="period.revenue",
        object_type="period",
        object_id=period.id,
        object_org_id=operator_org_id,
        request={"amount_fen": amount, "reference": reference},
        detail={"revenue_fen": period.revenue_fen, "allowed_fen": allowed_fen(period)},
    )
    return period


def close_period(session: Session, actor: Actor, *, period_id: str) -> RevenuePeriod:
    period = get_period(session, actor, period_id=period_id)
    enforce(actor, "period.manage", period_resource(period))
    period.status = transition(
        PERIOD_MOVES, period.status, PeriodState.closed, what=_("Revenue period"), id=period.id
    )
    over = pricing.excess(revenue_fen=period.revenue_fen, allowed_fen=allowed_fen(period))
    record(
        session,
        actor,
        action="period.close",
        object_type="period",
        object_id=period.id,
        object_org_id=period.operator_org_id,
        detail={
            "revenue_fen": period.revenue_fen,
            "allowed_fen": allowed_fen(period),
            "excess_fen": over,
        },
    )
    return period


def get_period(session: Session, actor: Actor, *, period_id: str) -> RevenuePeriod:
    period = session.get(RevenuePeriod, period_id)
    if period is None:
        raise NotFound(kind=_("Revenue period"), id=period_id)
    enforce(actor, "period.view", period_resource(period))
    return period


def list_periods(
    session: Session, actor: Actor, *, operator_org_id: str | None = None
) -> list[RevenuePeriod]:
    stmt = (
        select(RevenuePeriod)
        .where(visible(actor, "period.view", ROWS))
        .order_by(RevenuePeriod.starts_at.desc(), RevenuePeriod.id)
        .limit(200)
    )
    if operator_org_id:
        stmt = stmt.where(RevenuePeriod.operator_org_id == operator_org_id)
    return list(session.scalars(stmt))
