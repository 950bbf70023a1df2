"""Console pages of the market's revenue shares: an organisation's shares and those taken from
its sales, month by month, with the evidence each rests on; objections, their escalation and
their decision; a product's sharing rule, its preview and its valuations. The same service
functions as the API (``market.sharing``, ``market.objections``, ``market.valuations``,
``market.products``); ``market.pages`` includes this router and asks the helpers here for
the product page's sharing panel and the order page's shares."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization.policy import Resource, decide
from yaosu.console import steps
from yaosu.console.render import back_with_error, done, render
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import InvalidInput, YaosuError
from yaosu.kernel.i18n import N_, _, register_labels
from yaosu.kernel.settings import Settings
from yaosu.market import ledger, settlement
from yaosu.market import objections as _objections
from yaosu.market import products as _products
from yaosu.market import sharing as _sharing
from yaosu.market import valuations as _valuations
from yaosu.market.models import Product, ShareLine, ShareObjection
from yaosu.market.shares import METHODS, ROLES
from yaosu.web.deps import ContextDep, PageActor, SessionDep, locale

router = APIRouter(include_in_schema=False)

# What a form that took effect says on the page it lands on (``yaosu.console.steps``).
steps.STEPS.update(
    {
        "share.objected": steps.Step(
            N_("Your objection is filed: the share is frozen."),
            steps.Next(
                N_(
                    "The platform decides it; you may also ask a regulator to. Until then the share is not paid."
                )
            ),
        ),
        "share.escalated": steps.Step(
            N_("A regulator is asked to decide the objection."),
            steps.Next(N_("The platform or the regulator decides; the share stays frozen.")),
        ),
        "share.decided": steps.Step(
            N_("The objection is decided: the share is paid or returned."),
            steps.Next(N_("The statement below shows the share as it now stands.")),
        ),
        "product.shared": steps.Step(
            N_("The sharing rule is saved."),
            steps.Next(
                N_(
                    "Every order placed from now on keeps this rule; the preview below shows how a sale would be split."
                )
            ),
        ),
        "product.valued": steps.Step(
            N_("The contributors' valuation is queued."),
            steps.Next(
                N_("It runs in the background; once done, splits use its values, shown below.")
            ),
        ),
    }
)

# How an objection may be decided (``objections.OUTCOMES``), as the decision form offers it.
register_labels(
    "share_outcome",
    {
        "stand": N_("the share stands as held"),
        "recompute": N_("recompute the values with the stated seed"),
        "amount": N_("set the share's amount"),
    },
)

COMPUTED = _sharing.COMPUTED
SHARES = "/market/shares"


def _month(year: str, month: str) -> tuple[int, int, bool]:
    """The month asked for, or this month in China Standard Time (``False``: not a month)."""
    today = settlement.cst_day(utcnow())
    if not year and not month:
        return today.year, today.month, True
    try:
        return int(year), int(month), True
    except ValueError:
        return today.year, today.month, False


def _shares_of(line: ShareLine) -> str:
    """The statement a share is on: its party's, in the month it was posted."""
    day = settlement.cst_day(line.created_at)
    query = urlencode({"org": line.org_id, "year": day.year, "month": day.month})
    return f"{SHARES}?{query}"


def _back(request: Request, exc: YaosuError, session: Session | None, line: Any) -> Response:
    """A refused form: back to the statement the share is on, with the error."""
    answer = back_with_error(request, SHARES, exc, session=session)
    if line is not None:
        answer.headers["location"] += "&" + _shares_of(line).partition("?")[2]
    return answer


def _valuation_rows(found: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A valuation as a page shows it: each organisation's value (and standard error), the
    seed, the method, how many coalitions' utilities it rests on and the copies it dropped."""
    evidence = found.get("evidence") or {}
    players = list(found.get("players") or [])
    errors = evidence.get("stderr") or []
    values = found.get("values") or {}
    return {
        "method": found.get("method"),
        "seed": found.get("seed"),
        "values": [
            {
                "name": names.get(p, p),
                "value": float(values.get(p, 0.0)),
                "stderr": float(errors[i]) if i < len(errors) else None,
            }
            for i, p in enumerate(players)
        ],
        "utilities": len(evidence.get("utilities") or {}),
        "copies": {names.get(p, p): n for p, n in (evidence.get("copies_dropped") or {}).items()},
        "recomputes": bool(found.get("recomputes")),
    }


def _objection_rights(
    actor: Actor, lines: Sequence[ShareLine], found: Sequence[ShareObjection]
) -> dict[str, Any]:
    """What the reader may do with each share and each objection, from ``decide``."""
    now = utcnow()
    by_id = {line.id: line for line in lines}
    objectable = {
        line.id
        for line in lines
        if line.status == "held"
        and line.objection_ends_at > now
        and decide(actor, "share.object", _sharing.share_resource(line)).allowed
    }
    escalatable, decidable = set(), set()
    for o in found:
        line = by_id[o.line_id]
        if (
            o.status == "open"
            and decide(actor, "share.escalate", _sharing.share_resource(line)).allowed
        ):
            escalatable.add(o.id)
        if (
            o.status in ("open", "escalated")
            and decide(
                actor,
                "share.decide",
                _sharing.share_resource(line, regulator_asked=o.regulator_asked),
            ).allowed
        ):
            decidable.add(o.id)
    by_line: dict[str, list[ShareObjection]] = {}
    for o in found:
        by_line.setdefault(o.line_id, []).append(o)
    return {
        "objectable": objectable,
        "escalatable": escalatable,
        "decidable": decidable,
        "objections": by_line,
    }


@router.get(SHARES)
def shares_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    org: str = "",
    year: str = "",
    month: str = "",
    error: str | None = None,
) -> Response:
    """An organisation's revenue shares for a month (its own; oversight picks one): the
    statement of what is owed to it with the evidence, and the shares taken from its sales."""
    org_id = org[:40] or actor.org_id or ""
    y, m, understood = _month(year[:6], month[:4])
    if not understood:
        error = error or _("a statement is for a month: year 2000-2200, month 1-12").render(
            locale(request)
        )
    oversight = decide(actor, "share.view", Resource("share", "*", None, {"seller": None})).allowed
    statement: dict[str, Any] | None = None
    sales: list[ShareLine] = []
    if org_id:
        try:
            with session.begin_nested():
                statement = _sharing.statement(session, actor, org_id=org_id, year=y, month=m)
        except InvalidInput as exc:  # not a month: this month's, with the reason
            error = exc.message(locale(request))
            today = settlement.cst_day(utcnow())
            y, m = today.year, today.month
            statement = _sharing.statement(session, actor, org_id=org_id, year=y, month=m)
        start, end = _bounds(y, m)
        sales = [
            line
            for line in _sharing.list_lines(session, actor, since=start, until=end, limit=100_000)
            if line.seller_org_id == org_id
        ]
    owed = list(statement["lines"]) if statement else []
    lines = owed + [s for s in sales if s.org_id != org_id]
    found = _objections.objections_of(session, line_ids=[line.id for line in lines])
    names = accounts.org_names(session)
    wanted = {line.product_id for line in lines}
    titles = {
        row.id: row.title
        for row in session.execute(select(Product.id, Product.title).where(Product.id.in_(wanted)))
    }
    valuations = {
        k: _valuation_rows(v, names) for k, v in (statement or {}).get("valuations", {}).items()
    }
    return render(
        request,
        actor,
        "shares.html",
        org_id=org_id,
        year=y,
        month=m,
        statement=statement,
        sales=sales,
        valuations=valuations,
        names=names,
        titles=titles,
        yuan=ledger.yuan,
        oversight=oversight,
        error=error,
        **_objection_rights(actor, lines, found),
    )


def _bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=settlement.CST)
    return start, datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=settlement.CST)


@router.post("/market/shares/{line_id}/objection")
def objection_form(
    request: Request,
    line_id: str,
    actor: PageActor,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The party objects to its held share: it is frozen until decided."""
    line = None
    try:
        line = _sharing.get_line(session, actor, line_id=line_id[:40])
        with session.begin_nested():
            _objections.object_to(session, actor, line_id=line.id, reason=reason)
    except YaosuError as exc:
        return _back(request, exc, session, line)
    return done(_shares_of(line), "share.objected")


def _objected_line(session: Session, actor: Actor, objection_id: str) -> ShareLine | None:
    """The share an objection is about, if the reader may see it (for the way back)."""
    try:
        found = _objections.get_objection(session, actor, objection_id=objection_id[:40])
        return _sharing.get_line(session, actor, line_id=found.line_id)
    except YaosuError:
        return None


@router.post("/market/objections/{objection_id}/escalation")
def escalation_form(
    request: Request, objection_id: str, actor: PageActor, session: SessionDep
) -> Response:
    """The party or the seller asks a regulator to decide the objection."""
    line = _objected_line(session, actor, objection_id)
    try:
        with session.begin_nested():
            _objections.escalate(session, actor, objection_id=objection_id[:40])
    except YaosuError as exc:
        return _back(request, exc, session, line)
    assert line is not None  # escalate found it
    return done(_shares_of(line), "share.escalated")


@router.post("/market/objections/{objection_id}/decision")
def decision_form(
    request: Request,
    objection_id: str,
    actor: PageActor,
    ctx: ContextDep,
    outcome: Annotated[str, Form(max_length=12)] = "",
    amount: Annotated[str, Form(max_length=24)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The platform, or a regulator a party asked, decides: stand, recompute or an amount."""
    return run_decision_page(
        ctx,
        actor,
        request=request,
        objection_id=objection_id[:40],
        outcome=outcome,
        amount=amount,
        note=note,
    )


def run_decision_page(
    ctx: Context,
    actor: Actor,
    *,
    request: Request,
    objection_id: str,
    outcome: str,
    amount: str,
    note: str,
) -> Response:
    """The decision runs in its own transactions (a recomputation reads the sources between
    them), so this form holds no session of its own."""
    with ctx.db.transaction() as session:
        line = _objected_line(session, actor, objection_id)
        if line is not None:
            session.expunge(line)
    try:
        amount_fen = None
        if outcome == "amount":
            if not amount.strip():
                raise InvalidInput(problem=_("state the share's amount, in yuan"))
            amount_fen = ledger.fen(amount.replace(",", "").replace("¥", "").strip())
        _objections.run_decision(
            ctx,
            actor,
            objection_id=objection_id,
            outcome=outcome,
            note=note,
            amount_fen=amount_fen,
        )
    except YaosuError as exc:
        return _back(request, exc, None, line)
    assert line is not None
    return done(_shares_of(line), "share.decided")


# --- a product's sharing rule ------------------------------------------------------------------


def _percent(basis_points: int) -> str:
    """Basis points as a percentage, as short as exact: 6000 -> "60", 1250 -> "12.5"."""
    return f"{(Decimal(basis_points) / 100).normalize():f}"


def percent_bp(text: str, what: Any) -> int:
    """A percentage as typed ("12.5", "60%") to whole basis points."""
    try:
        value = Decimal(text.replace("%", "").replace("％", "").strip())
        exact = value.is_finite() and value == value.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact or not 0 <= value <= 100:
        raise InvalidInput(problem=_("{what}: a percentage from 0 to 100, such as 12.5", what=what))
    return int(value * 100)


def product_sharing(
    session: Session,
    actor: Actor,
    *,
    request: Request,
    product: Product,
    can: dict[str, bool],
    example: str,
    settings: Settings,
) -> dict[str, Any]:
    """The product page's sharing panel: the rule in words, a preview of how an example sale
    would be split, the latest valuation, and the seller's form while the rule may change.
    Adds ``product.value`` and ``product.sharing`` to ``can``."""
    rule = dict(product.sharing or {})
    method = str(rule.get("method") or "declared")
    holders = _products.contributors_of(session, product_id=product.id)
    contributors = sorted(set(holders.values()))
    names = accounts.org_names(session)
    resource = _products.product_resource(session, product=product)
    can["product.sharing"] = can.get("product.edit", False) and product.status in (
        _products.EDITABLE
    )
    can["product.value"] = method in COMPUTED and decide(actor, "product.value", resource).allowed
    preview_error, seller_fen = None, 100_000
    planned: list[_sharing.Planned] = []
    try:
        if example.strip():
            seller_fen = ledger.fen(example.replace(",", "").replace("¥", "").strip())
        with session.begin_nested():
            planned, _basis = _products.split_preview(
                session, actor, product_id=product.id, seller_fen=seller_fen, settings=settings
            )
    except YaosuError as exc:
        preview_error = exc.message(locale(request))
    latest = None
    if method in COMPUTED:
        found = _valuations.latest(session, actor, product_id=product.id)
        if found is not None:
            latest = _valuation_rows(
                {
                    "method": found.method,
                    "seed": found.seed,
                    "players": found.players,
                    "values": found.values,
                    "evidence": found.evidence,
                    "recomputes": found.recomputes_id,
                },
                names,
            )
    return {
        "sharing": {
            "rule": rule,
            "method": method,
            "pool": _percent(int(rule.get("pool_bp") or 0)),
            "roles": [
                {"org_id": r["org_id"], "task": r["role"], "percent": _percent(int(r["bp"]))}
                for r in rule.get("roles", [])
            ],
            "declared": dict(rule.get("declared") or {}),
            "floors": {o: _percent(int(v)) for o, v in (rule.get("floors_bp") or {}).items()},
            "caps": {o: _percent(int(v)) for o, v in (rule.get("caps_bp") or {}).items()},
            "valuation": json.dumps(rule.get("valuation") or {}, ensure_ascii=False, indent=1)
            if rule.get("valuation")
            else "",
            "contributors": contributors,
            "methods": list(METHODS),
            "role_kinds": list(ROLES),
            "computed": COMPUTED,
            "planned": planned,
            "example": ledger.yuan(seller_fen).lstrip("¥"),
            "preview_error": preview_error,
            "latest": latest,
        },
        "org_choices": names,
    }


def _cells(values: Sequence[str] | None, n: int) -> list[str]:
    out = [v.strip() for v in (values or [])][:n]
    return out + [""] * (n - len(out))


def rule_from_form(
    *,
    names: Mapping[str, str],
    pool: str,
    method: str,
    contributors: Sequence[str],
    weights: Sequence[str],
    floors: Sequence[str],
    caps: Sequence[str],
    role_orgs: Sequence[str],
    role_kinds: Sequence[str],
    role_percents: Sequence[str],
    valuation: str,
) -> dict[str, Any]:
    """The rule's JSON form from the product page's fields (``products.set_sharing`` checks
    it): percentages become basis points, each contributor's row its weight, floor and cap."""
    doc: dict[str, Any] = {
        "pool_bp": percent_bp(pool, _("the contributors' pool")) if pool.strip() else 0,
        "method": method or "declared",
    }
    n = len(contributors)
    declared, floors_bp, caps_bp = {}, {}, {}
    for org, weight, floor, cap in zip(
        contributors, _cells(weights, n), _cells(floors, n), _cells(caps, n), strict=True
    ):
        who = names.get(org, org)
        if weight:
            if not weight.isdigit():
                raise InvalidInput(
                    problem=_("{org}: a weight is a whole number from 0 to 10000", org=who)
                )
            declared[org] = int(weight)
        if floor:
            floors_bp[org] = percent_bp(floor, _("{org}: floor", org=who))
        if cap:
            caps_bp[org] = percent_bp(cap, _("{org}: cap", org=who))
    if doc["method"] == "declared":
        doc["declared"] = declared
    doc |= {"floors_bp": floors_bp, "caps_bp": caps_bp}
    roles = []
    n = len(role_orgs)
    for org, kind, percent in zip(
        role_orgs, _cells(role_kinds, n), _cells(role_percents, n), strict=True
    ):
        if org.strip() or percent:
            roles.append(
                {
                    "org_id": org.strip(),
                    "role": kind,
                    "bp": percent_bp(percent or "0", _("the role's share")),
                }
            )
    doc["roles"] = roles
    if doc["method"] in COMPUTED:
        doc["valuation"] = parse_json(valuation, _("the valuation's parameters")) or {}
    if not doc["pool_bp"] and not roles:
        return {}  # shares nothing: the seller keeps its side of every sale
    return doc


def parse_json(text: str, what: Any) -> dict[str, Any] | None:
    """A JSON object typed in a textarea (``None`` when left empty), or a clear refusal."""
    if not text.strip():
        return None
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(
            problem=_(
                "{what} is not valid JSON (line {line}, column {column})",
                what=what,
                line=getattr(exc, "lineno", 1),
                column=getattr(exc, "colno", 1),
            )
        ) from None
    if not isinstance(found, dict):
        raise InvalidInput(problem=_("{what} must be a JSON object", what=what))
    return found


@router.post("/market/products/{product_id}/sharing")
def sharing_form(
    request: Request,
    product_id: str,
    actor: PageActor,
    session: SessionDep,
    pool: Annotated[str, Form(max_length=12)] = "",
    method: Annotated[str, Form(max_length=16)] = "declared",
    contributor: Annotated[list[str] | None, Form()] = None,
    weight: Annotated[list[str] | None, Form()] = None,
    floor: Annotated[list[str] | None, Form()] = None,
    cap: Annotated[list[str] | None, Form()] = None,
    role_org: Annotated[list[str] | None, Form()] = None,
    role: Annotated[list[str] | None, Form()] = None,
    role_percent: Annotated[list[str] | None, Form()] = None,
    valuation: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The seller states (or changes, while a draft or rejected) how each sale is shared."""
    back = f"/market/products/{product_id}"
    try:
        rule = rule_from_form(
            names=accounts.org_names(session),
            pool=pool,
            method=method,
            contributors=[c[:40] for c in (contributor or [])][:200],
            weights=[w[:12] for w in (weight or [])][:200],
            floors=[f[:12] for f in (floor or [])][:200],
            caps=[c[:12] for c in (cap or [])][:200],
            role_orgs=[o[:40] for o in (role_org or [])][:200],
            role_kinds=[r[:20] for r in (role or [])][:200],
            role_percents=[p[:12] for p in (role_percent or [])][:200],
            valuation=valuation,
        )
        with session.begin_nested():
            _products.set_sharing(session, actor, product_id=product_id, rule=rule)
    except YaosuError as exc:
        return back_with_error(request, back, exc, session=session)
    return done(back, "product.shared")


@router.post("/market/products/{product_id}/valuations")
def valuation_form(
    request: Request, product_id: str, actor: PageActor, session: SessionDep
) -> Response:
    """Queues the valuation of the contributors inside the platform, by the product's rule
    (a background task: training a model on every coalition takes a while)."""
    back = f"/market/products/{product_id}"
    try:
        with session.begin_nested():
            _valuations.submit(session, actor, product_id=product_id[:40])
    except YaosuError as exc:
        return back_with_error(request, back, exc, session=session)
    return done(back, "product.valued")
