"""Revenue shares on the ledger: when an order's escrow is released, its seller-side amount is
split by the rule frozen in the order (``shares``) and, for a product made from data bought on
the market, a royalty goes up the lineage to each upstream purchase, split in turn by that
purchase's own frozen rule and shares (a royalty per hop, at most ``royalty_depth`` hops, all
of them together at most ``royalty_cap_bp`` of the order).

Each party's share is a ``ShareLine`` and a pending transfer from the seller's revenue to the
party's: held until the objection window (``share_objection_days``) closes, then paid by the
market's daily step; an objection freezes it until the platform (or a regulator a party asked)
decides (``objections``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import InvalidInput, NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.states import transition
from yaosu.lineage import service as lineage
from yaosu.market import ledger, shares
from yaosu.market.models import Order, ShareLine, Valuation
from yaosu.market.settlement import CST  # statements run by the calendar month in China
from yaosu.market.states import SHARE_MOVES, OrderState, ShareState

# the ledger code of a share's transfer, by the line's kind
CODES = {"role": "role_share", "contributor": "share", "royalty": "royalty"}
COMPUTED = ("shapley", "leave_one_out", "knn")


def rule_of(terms: Mapping[str, Any]) -> shares.Rule:
    """The sharing rule frozen in an order's terms (checked when the product was listed)."""
    doc = terms.get("sharing") or {}
    if not doc:
        return shares.NO_SHARING
    return shares.Rule(
        pool_bp=int(doc.get("pool_bp", 0)),
        method=str(doc.get("method", "declared")),
        roles=tuple(
            shares.RoleShare(str(r["org_id"]), str(r["role"]), int(r["bp"]))
            for r in doc.get("roles", [])
        ),
        declared={str(k): int(v) for k, v in (doc.get("declared") or {}).items()},
        floors_bp={str(k): int(v) for k, v in (doc.get("floors_bp") or {}).items()},
        caps_bp={str(k): int(v) for k, v in (doc.get("caps_bp") or {}).items()},
        valuation=dict(doc.get("valuation") or {}),
    )


def contributors(session: Session, *, sources: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``{dataset id: organisation}``: who holds (collected) each source dataset, the parties
    the contributor pool is split among."""
    out = {}
    for src in sources:
        facts = catalog.find_dataset(session, dataset_id=str(src["dataset_id"]))
        if facts is not None:
            out[facts.id] = facts.owner_org_id
    return out


def latest_valuation(session: Session, *, product_id: str, method: str) -> Valuation | None:
    return session.scalar(
        select(Valuation)
        .where(Valuation.product_id == product_id, Valuation.method == method)
        .order_by(Valuation.created_at.desc(), Valuation.id.desc())
        .limit(1)
    )


def weights(session: Session, *, order: Order) -> tuple[dict[str, float], dict[str, Any]]:
    """The contributors' weights for the order's pool, by its rule's method, and the evidence:
    declared weights; the rows of each contributor's data the order's delivered answers were
    computed from (lineage); or the product's latest valuation of that method."""
    rule = rule_of(order.terms)
    holders = dict(order.terms.get("contributors") or {})
    orgs = sorted(set(holders.values()))
    if rule.method == "declared":
        got = {o: float(rule.declared.get(o, 0)) for o in orgs if rule.declared.get(o)}
        return got, {"method": "declared", "weights": got}
    if rule.method == "volume":
        names = {
            lineage.version_name(str(s["dataset_id"]), int(s["version"])): str(s["dataset_id"])
            for s in order.terms.get("sources", [])
        }
        used = (
            lineage.rows_used(session, contract_ids=[order.contract_id], names=list(names))
            if order.contract_id
            else {}
        )
        got = dict.fromkeys(orgs, 0.0)
        for name, rows in used.items():
            got[holders[names[name]]] += rows
        # Rows that copy an earlier holder's count for nothing: each holder's used rows are
        # scaled by the share of its rows that are its own (the latest volume valuation).
        original = latest_valuation(session, product_id=order.product_id, method="volume")
        if original is not None:
            got = {o: w * float(original.values.get(o, 1.0)) for o, w in got.items()}
        return got, {
            "method": "volume",
            "rows": used,
            "originality": original.values if original is not None else None,
            "valuation": original.id if original is not None else None,
            "weights": got,
        }
    found = latest_valuation(session, product_id=order.product_id, method=rule.method)
    if found is None:
        equal = dict.fromkeys(orgs, 1.0)
        return equal, {"method": rule.method, "valuation": None, "weights": equal, "equal": True}
    got = {o: float(found.values.get(o, 0.0)) for o in orgs}
    return got, {
        "method": rule.method,
        "valuation": found.id,
        "seed": found.seed,
        "weights": got,
    }


@dataclass
class Planned:
    org_id: str
    kind: str
    amount: int
    exact: Fraction
    product_id: str
    task: str | None = None
    hop: int = 0
    via_order_id: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


def upstream(session: Session, *, sources: Sequence[Mapping[str, Any]]) -> list[Order]:
    """The purchases a product's sources were made from: the accepted orders whose contracts
    the lineage shows the data was taken under (an extract, an answer), oldest first."""
    names = [lineage.version_name(str(s["dataset_id"]), int(s["version"])) for s in sources]
    graph = lineage.graph(session, start=names, up=True)
    contracts = sorted({r["contract"] for r in graph.runs.values() if r.get("contract")})
    if not contracts:
        return []
    return list(
        session.scalars(
            select(Order)
            .where(Order.contract_id.in_(contracts), Order.status == OrderState.accepted)
            .order_by(Order.created_at, Order.id)
        )
    )


def plan(
    session: Session, *, order: Order, settings: Settings, amount: int | None = None, hop: int = 0
) -> list[Planned]:
    """Every party's share of ``amount`` (the order's seller-side amount): the royalties up the
    lineage first (each upstream purchase's part split by its own rule), then the order's own
    rule over what is left. The seller's own rest is a line too (kind ``seller``, not paid
    out: it stays where it is). The amounts sum to ``amount``."""
    amount = order.seller_fen if amount is None else amount
    out: list[Planned] = []
    ups = (
        upstream(session, sources=order.terms.get("sources", []))
        if hop < settings.royalty_depth
        else []
    )
    ups = [u for u in ups if u.id != order.id]
    royalty_total = Fraction(0)
    if ups:
        royalty_total = min(
            Fraction(settings.royalty_bp * len(ups), shares.BP),
            Fraction(settings.royalty_cap_bp, shares.BP),
        )
    each = royalty_total / len(ups) if ups else Fraction(0)
    parts = [each] * len(ups) + [1 - royalty_total]
    amounts = shares.largest_remainder(amount, parts)
    for u, part, fen in zip(ups, parts, amounts, strict=False):
        for line in plan(session, order=u, settings=settings, amount=fen, hop=hop + 1):
            out.append(
                Planned(
                    org_id=line.org_id,
                    kind="royalty",
                    amount=line.amount,
                    exact=part * line.exact,
                    product_id=line.product_id,
                    task=line.task,
                    hop=line.hop,
                    via_order_id=line.via_order_id or u.id,
                    evidence=line.evidence | {"as": line.kind, "via_order": u.id, "hop": hop + 1},
                )
            )
    own = amounts[-1]
    rule = rule_of(order.terms)
    if hop == 0:
        got, evidence = weights(session, order=order)
    else:  # an upstream purchase shares a royalty as it shared its own sale
        got, evidence = _as_shared(session, order=order)
    for piece in shares.split(own, rule, seller_org_id=order.seller_org_id, weights=got):
        out.append(
            Planned(
                org_id=piece.org_id,
                kind=piece.kind,
                amount=piece.amount,
                exact=(1 - royalty_total) * piece.exact,
                product_id=order.product_id,
                task=piece.task,
                hop=hop,
                evidence=(evidence | {"weight": piece.weight})
                if piece.kind == "contributor"
                else {},
            )
        )
    return out


def _as_shared(session: Session, *, order: Order) -> tuple[dict[str, float], dict[str, Any]]:
    lines = session.scalars(
        select(ShareLine).where(
            ShareLine.order_id == order.id, ShareLine.kind == "contributor", ShareLine.hop == 0
        )
    )
    got = {line.org_id: float(line.evidence.get("weight") or 0.0) for line in lines}
    if not got:
        return weights(session, order=order)
    return got, {"method": "as_shared", "order": order.id, "weights": got}


def post(
    session: Session, actor: Actor, *, order: Order, settings: Settings, at: datetime | None = None
) -> list[ShareLine]:
    """Splits a released order: a share line and a pending transfer from the seller's
    revenue for each party owed something, held until the objection window closes. Called in
    the release's transaction, after its holds are posted."""
    now = at or utcnow()
    planned = [p for p in plan(session, order=order, settings=settings) if p.kind != "seller"]
    if not planned:
        return []
    seller = ledger.open_account(session, org_id=order.seller_org_id, code="revenue")
    specs, keep = [], []
    for i, p in enumerate(planned):
        if p.amount > 0 and p.org_id != order.seller_org_id:
            specs.append(
                ledger.Spec(
                    key=f"order:{order.id}:share:{i}",
                    code=CODES[p.kind],
                    amount=p.amount,
                    debit=seller,
                    credit=ledger.open_account(session, org_id=p.org_id, code="revenue"),
                    kind="pending",
                    ref=order.id,
                )
            )
            keep.append(p)
    transfers = ledger.post_batch(session, actor, transfers=specs, at=at)
    by_plan = dict(zip((id(p) for p in keep), transfers, strict=True))
    ends = now + timedelta(days=settings.share_objection_days)
    rows = []
    for p in planned:
        transfer = by_plan.get(id(p))
        paid_to_self = p.org_id == order.seller_org_id or p.amount == 0
        rows.append(
            ShareLine(
                id=new_id("shl"),
                order_id=order.id,
                product_id=p.product_id,
                org_id=p.org_id,
                seller_org_id=order.seller_org_id,
                kind=p.kind,
                task=p.task,
                hop=p.hop,
                via_order_id=p.via_order_id,
                amount_fen=p.amount,
                exact=f"{p.exact.numerator}/{p.exact.denominator}",
                evidence=p.evidence,
                transfer_id=transfer.id if transfer else None,
                status=ShareState.paid if paid_to_self else ShareState.held,
                objection_ends_at=ends,
                created_at=now,
                settled_at=now if paid_to_self else None,
            )
        )
    session.add_all(rows)
    session.flush()
    record(
        session,
        actor,
        action="order.share",
        object_type="order",
        object_id=order.id,
        object_org_id=order.seller_org_id,
        detail={
            "lines": [[r.org_id, r.kind, r.hop, r.amount_fen] for r in rows],
            "objection_ends_at": ends.isoformat(),
        },
    )
    return rows


def lines_of(session: Session, *, order_id: str) -> list[ShareLine]:
    return list(
        session.scalars(
            select(ShareLine).where(ShareLine.order_id == order_id).order_by(ShareLine.id)
        )
    )


def pay_due(session: Session, actor: Actor, *, now: datetime | None = None) -> int:
    """Posts the held shares whose objection window has closed without an objection."""
    now = now or utcnow()
    due = list(
        session.scalars(
            locked(
                select(ShareLine)
                .where(ShareLine.status == ShareState.held, ShareLine.objection_ends_at <= now)
                .order_by(ShareLine.id)
            )
        )
    )
    if not due:
        return 0
    specs = [
        ledger.Spec(
            key=f"share:{line.id}:post",
            code=CODES[line.kind],
            kind="post",
            pending_id=line.transfer_id,
        )
        for line in due
        if line.transfer_id
    ]
    ledger.post_batch(session, actor, transfers=specs)
    for line in due:
        line.status = transition(
            SHARE_MOVES, line.status, ShareState.paid, what=_("Revenue share"), id=line.id
        )
        line.settled_at = now
    session.flush()
    record(
        session,
        actor,
        action="share.pay",
        object_type="market",
        object_id="shares",
        detail={"lines": [line.id for line in due]},
    )
    return len(due)


# --- reading -----------------------------------------------------------------------------------


def share_resource(line: ShareLine, *, regulator_asked: bool = False) -> Resource:
    return Resource(
        "share",
        line.id,
        line.org_id,
        {"seller": line.seller_org_id, "status": line.status, "regulator_asked": regulator_asked},
    )


def share_rows() -> Rows:
    return Rows("share", ShareLine.org_id, {"seller": ShareLine.seller_org_id})


def get_line(session: Session, actor: Actor, *, line_id: str) -> ShareLine:
    line = session.get(ShareLine, line_id)
    if line is None:
        raise NotFound(kind=_("Revenue share"), id=line_id)
    enforce(actor, "share.view", share_resource(line))
    return line


def list_lines(
    session: Session,
    actor: Actor,
    *,
    org_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[ShareLine]:
    """The shares the actor may see (its own, those of its sales; oversight: all), newest
    first; ``org_id``: those owed to one organisation."""
    stmt = (
        select(ShareLine)
        .where(visible(actor, "share.view", share_rows()))
        .order_by(ShareLine.created_at.desc(), ShareLine.id)
        .limit(limit)
    )
    if org_id:
        stmt = stmt.where(ShareLine.org_id == org_id)
    if since is not None:
        stmt = stmt.where(ShareLine.created_at >= since)
    if until is not None:
        stmt = stmt.where(ShareLine.created_at < until)
    return list(session.scalars(stmt))


def statement(
    session: Session, actor: Actor, *, org_id: str, year: int, month: int
) -> dict[str, Any]:
    """A contributor's statement for a month (China Standard Time): every share owed to it,
    with the evidence of how each was valued (method, parameters, seed, the values and the
    utility scores of the valuation it rests on), and the totals by state."""
    if not 2000 <= year <= 2200 or not 1 <= month <= 12:
        raise InvalidInput(problem=_("a statement is for a month: year 2000-2200, month 1-12"))
    start = datetime(year, month, 1, tzinfo=CST)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=CST)
    enforce(actor, "share.view", Resource("share", "*", org_id, {"seller": None}))
    found = list_lines(session, actor, org_id=org_id, since=start, until=end, limit=100_000)
    valuation_ids = {str(v) for line in found if (v := line.evidence.get("valuation"))}
    valuations = {
        v.id: {
            "id": v.id,
            "method": v.method,
            "params": v.params,
            "seed": v.seed,
            "players": v.players,
            "values": v.values,
            "evidence": v.evidence,
            "recomputes": v.recomputes_id,
            "at": v.created_at.isoformat(),
        }
        for v in session.scalars(select(Valuation).where(Valuation.id.in_(sorted(valuation_ids))))
    }
    totals: dict[str, int] = {}
    for line in found:
        totals[line.status] = totals.get(line.status, 0) + line.amount_fen
    record(
        session,
        actor,
        action="share.view",
        object_type="organisation",
        object_id=org_id,
        object_org_id=org_id,
        request={"year": year, "month": month},
        detail={"lines": len(found)},
    )
    return {
        "org_id": org_id,
        "period": f"{year:04d}-{month:02d}",
        "lines": found,
        "totals": totals,
        "total_fen": sum(totals.values()),
        "valuations": valuations,
    }
