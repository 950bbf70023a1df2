"""A contributor's objection to its revenue share: it freezes the share (its pending transfer
stays pending past the window), and the platform, or a regulator a party asked, decides:

- ``stand``: the share was right; it is paid as held;
- ``recompute``: the contribution values are computed again with the seed the evidence states
  (a computed method only); the share becomes what the recomputation gives;
- ``amount``: the share is set to a stated amount.

A share set lower is posted in part (the rest returns to the seller's available revenue; none
at all voids it); a share set higher is paid as held plus the difference from the seller's
revenue (the seller funds a correction; refused if its revenue cannot cover it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import decide as allowed_to
from yaosu.authorization.policy import enforce
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import InvalidInput, NotFound, NotNow
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.states import transition
from yaosu.market import ledger, shares, sharing, valuations
from yaosu.market.models import Order, ShareLine, ShareObjection
from yaosu.market.states import OBJECTION_MOVES, SHARE_MOVES, ObjectionState, ShareState

OUTCOMES = ("stand", "recompute", "amount")


def _line(session: Session, line_id: str) -> ShareLine:
    line = session.scalars(
        locked(select(ShareLine).where(ShareLine.id == line_id)).execution_options(
            populate_existing=True
        )
    ).first()
    if line is None:
        raise NotFound(kind=_("Revenue share"), id=line_id)
    return line


def _objection(session: Session, objection_id: str) -> tuple[ShareObjection, ShareLine]:
    found = session.scalars(
        locked(select(ShareObjection).where(ShareObjection.id == objection_id)).execution_options(
            populate_existing=True
        )
    ).first()
    if found is None:
        raise NotFound(kind=_("Objection"), id=objection_id)
    return found, _line(session, found.line_id)


def objections_of(session: Session, *, line_ids: list[str]) -> list[ShareObjection]:
    if not line_ids:
        return []
    return list(
        session.scalars(
            select(ShareObjection)
            .where(ShareObjection.line_id.in_(line_ids))
            .order_by(ShareObjection.created_at)
        )
    )


def get_objection(session: Session, actor: Actor, *, objection_id: str) -> ShareObjection:
    found = session.get(ShareObjection, objection_id)
    if found is None:
        raise NotFound(kind=_("Objection"), id=objection_id)
    sharing.get_line(session, actor, line_id=found.line_id)  # who may see the share sees it
    return found


def object_to(session: Session, actor: Actor, *, line_id: str, reason: str) -> ShareObjection:
    """The party objects while its share is held: the share is frozen."""
    sharing.get_line(session, actor, line_id=line_id)
    line = _line(session, line_id)
    enforce(actor, "share.object", sharing.share_resource(line))
    if len(reason.strip()) < 10:
        raise InvalidInput(problem=_("say why, in at least 10 characters"))
    if line.status != ShareState.held or line.objection_ends_at <= utcnow():
        raise NotNow(
            what=_("Revenue share"),
            id=line.id,
            why=_("a share is objected to while it is held, before its window closes"),
        )
    line.status = transition(
        SHARE_MOVES, line.status, ShareState.frozen, what=_("Revenue share"), id=line.id
    )
    found = ShareObjection(
        id=new_id("sob"),
        line_id=line.id,
        org_id=line.org_id,
        reason=reason.strip()[:5000],
        status=ObjectionState.open,
        regulator_asked=False,
        created_by=actor.id,
    )
    session.add(found)
    session.flush()
    record(
        session,
        actor,
        action="share.object",
        object_type="share",
        object_id=line.id,
        object_org_id=line.org_id,
        request={"reason": found.reason},
        detail={"objection": found.id, "amount_fen": line.amount_fen},
    )
    return found


def escalate(session: Session, actor: Actor, *, objection_id: str) -> ShareObjection:
    """The party or the seller asks a regulator to decide."""
    found, line = _objection(session, objection_id)
    sharing.get_line(session, actor, line_id=line.id)
    enforce(actor, "share.escalate", sharing.share_resource(line))
    found.status = transition(
        OBJECTION_MOVES, found.status, ObjectionState.escalated, what=_("Objection"), id=found.id
    )
    found.regulator_asked = True
    session.flush()
    record(
        session,
        actor,
        action="share.escalate",
        object_type="share",
        object_id=line.id,
        object_org_id=line.org_id,
        detail={"objection": found.id},
    )
    return found


def run_decision(
    ctx: Context,
    actor: Actor,
    *,
    objection_id: str,
    outcome: str,
    note: str,
    amount_fen: int | None = None,
) -> ShareObjection:
    """Decides an objection (see the module docstring); the share is then paid or voided."""
    if outcome not in OUTCOMES:
        raise InvalidInput(problem=_("the outcome is stand, recompute or amount"))
    if len(note.strip()) < 10:
        raise InvalidInput(problem=_("give the reason for the decision, in at least 10 characters"))
    with ctx.db.transaction() as session:
        found, line = _objection(session, objection_id)
        sharing.get_line(session, actor, line_id=line.id)
        enforce(
            actor,
            "share.decide",
            sharing.share_resource(line, regulator_asked=found.regulator_asked),
        )
        _still_open(found)
        product_id, evidence = line.product_id, dict(line.evidence)
    recomputed: dict[str, Any] = {}
    if outcome == "recompute":
        if (
            line.kind != "contributor"
            or line.hop != 0
            or evidence.get("method") not in sharing.COMPUTED
            or not evidence.get("valuation")
        ):
            raise InvalidInput(
                problem=_("only a contributor's share valued by a computation is recomputed")
            )
        again = valuations.run_valuation(
            ctx,
            actor,
            product_id=product_id,
            seed=evidence.get("seed"),
            recomputes=str(evidence["valuation"]),
        )
        recomputed = {"valuation": again.id, "seed": again.seed, "values": again.values}
    elif outcome == "amount" and (
        isinstance(amount_fen, bool)
        or not isinstance(amount_fen, int)
        or not 0 <= amount_fen <= ledger.MAX_FEN
    ):
        raise InvalidInput(problem=_("state the share's amount in whole fen"))
    with ctx.db.transaction() as session:
        found, line = _objection(session, objection_id)
        _still_open(found)
        if outcome == "stand":
            amount = line.amount_fen
        elif outcome == "amount":
            assert amount_fen is not None
            amount = amount_fen
        else:
            amount = _recomputed_amount(session, line, recomputed["values"])
        _settle(session, actor, line, amount)
        found.status = transition(
            OBJECTION_MOVES,
            found.status,
            ObjectionState.dismissed if amount == line_amount(line) else ObjectionState.upheld,
            what=_("Objection"),
            id=found.id,
        )
        found.outcome = {"outcome": outcome, "amount_fen": amount, "was_fen": line_amount(line)}
        found.outcome |= recomputed
        found.resolution, found.resolved_by, found.decided_at = note.strip(), actor.id, utcnow()
        session.flush()
        record(
            session,
            actor,
            action="share.decide",
            object_type="share",
            object_id=line.id,
            object_org_id=line.org_id,
            request={"outcome": outcome, "amount_fen": amount_fen, "note": note.strip()},
            detail=found.outcome,
        )
        session.expunge(found)
        return found


def line_amount(line: ShareLine) -> int:
    """The amount the share was held at (``evidence['held_fen']`` once a decision changed it)."""
    return int(line.evidence.get("held_fen", line.amount_fen))


def _still_open(found: ShareObjection) -> None:
    if found.status not in (ObjectionState.open, ObjectionState.escalated):
        raise NotNow(what=_("Objection"), id=found.id, why=_("it has been decided"))


def _recomputed_amount(session: Session, line: ShareLine, values: dict[str, float]) -> int:
    """The party's pool share again, with the recomputed values, of the same pool."""
    order = session.get(Order, line.order_id)
    assert order is not None
    pool_lines = list(
        session.scalars(
            select(ShareLine).where(
                ShareLine.order_id == order.id,
                ShareLine.kind == "contributor",
                ShareLine.hop == 0,
            )
        )
    )
    pool_fen = sum(line_amount(p) for p in pool_lines)
    rule = sharing.rule_of(order.terms)
    orgs = sorted({p.org_id for p in pool_lines})
    parts = shares.pool_fractions(
        {o: values.get(o, 0.0) for o in orgs}, floors_bp=rule.floors_bp, caps_bp=rule.caps_bp
    )
    split = shares.largest_remainder(pool_fen, [parts[o] for o in orgs])
    return dict(zip(orgs, split, strict=True))[line.org_id]


def _settle(session: Session, actor: Actor, line: ShareLine, amount: int) -> None:
    held = line.amount_fen
    specs: list[ledger.Spec] = []
    if line.transfer_id and amount > 0:
        specs.append(
            ledger.Spec(
                key=f"share:{line.id}:decide",
                code=sharing.CODES[line.kind],
                kind="post",
                pending_id=line.transfer_id,
                amount=min(amount, held),
            )
        )
    elif line.transfer_id:
        specs.append(
            ledger.Spec(
                key=f"share:{line.id}:decide",
                code=sharing.CODES[line.kind],
                kind="void",
                pending_id=line.transfer_id,
            )
        )
    if amount > held:
        specs.append(
            ledger.Spec(
                key=f"share:{line.id}:top-up",
                code=sharing.CODES[line.kind],
                amount=amount - held,
                debit=ledger.open_account(session, org_id=line.seller_org_id, code="revenue"),
                credit=ledger.open_account(session, org_id=line.org_id, code="revenue"),
                ref=line.order_id,
            )
        )
    ledger.post_batch(session, actor, transfers=specs)
    target = ShareState.paid if amount > 0 else ShareState.voided
    line.status = transition(SHARE_MOVES, line.status, target, what=_("Revenue share"), id=line.id)
    line.evidence = dict(line.evidence) | {"held_fen": held}
    line.amount_fen, line.settled_at = amount, utcnow()


def waiting(session: Session, actor: Actor) -> list[tuple[ShareObjection, ShareLine]]:
    """The objections the actor may decide and that wait for a decision, oldest first (the
    platform: all; a regulator: those a party took to it)."""
    rows = session.execute(
        select(ShareObjection, ShareLine)
        .join(ShareLine, ShareLine.id == ShareObjection.line_id)
        .where(ShareObjection.status.in_((ObjectionState.open, ObjectionState.escalated)))
        .order_by(ShareObjection.created_at)
    ).all()
    return [
        (found, line)
        for found, line in rows
        if allowed_to(
            actor,
            "share.decide",
            sharing.share_resource(line, regulator_asked=found.regulator_asked),
        ).allowed
    ]
