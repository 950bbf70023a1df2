"""Revenue shares: a product's sharing rule, stated at listing and frozen into each order, and
the split of an order's revenue among everyone who contributed to the product.

The rule divides what the seller side receives (``Order.seller_fen``: the price less the
platform's and the operator's fees, which the ledger already pays apart):

- fixed **role shares** for named organisations' labour (de-identification, cleaning,
  labelling, modelling, …), in basis points;
- a **contributor pool**, in basis points, split among the organisations whose data the
  product is made from, by the rule's valuation ``method``: ``declared`` weights (by contract),
  ``volume`` (rows of each contributor's data the order's delivered answers were computed
  from, measured by lineage), or a computed contribution value (``shapley``, ``leave_one_out``,
  ``knn``: ``market.valuation``); each contributor's part of the pool may have a floor and a
  cap (basis points of the pool);
- the **rest** stays with the seller (the operator's own revenue).

Money is split in integer fen with the largest-remainder rule: every party's exact share is
computed as a fraction, each gets its share rounded down, and the fen left over go one each to
the largest fractional remainders (ties: the earlier line: roles, then the pool by
organisation id, then the seller). Nothing is lost or made: the lines sum to the amount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import Message, Sentences, _

BP = 10_000  # basis points in a whole
METHODS = ("declared", "volume", "shapley", "leave_one_out", "knn")
ROLES = ("collection", "deidentification", "cleaning", "labelling", "modelling", "other")
MAX_PARTIES = 200  # organisations one rule may name


@dataclass(frozen=True)
class RoleShare:
    org_id: str
    task: str  # the labour paid for: shares.ROLES
    bp: int


@dataclass(frozen=True)
class Rule:
    """A sharing rule, checked. ``contributors``: the organisations the pool is split among
    (the holders of the product's sources, or those the rule names)."""

    pool_bp: int = 0
    method: str = "declared"
    roles: tuple[RoleShare, ...] = ()
    declared: Mapping[str, int] = field(default_factory=dict)
    floors_bp: Mapping[str, int] = field(default_factory=dict)
    caps_bp: Mapping[str, int] = field(default_factory=dict)
    valuation: Mapping[str, Any] = field(default_factory=dict)  # the method's parameters

    def as_json(self) -> dict[str, Any]:
        return {
            "pool_bp": self.pool_bp,
            "method": self.method,
            "roles": [{"org_id": r.org_id, "role": r.task, "bp": r.bp} for r in self.roles],
            "declared": dict(self.declared),
            "floors_bp": dict(self.floors_bp),
            "caps_bp": dict(self.caps_bp),
            "valuation": dict(self.valuation),
        }


NO_SHARING = Rule()


def _bp(value: Any, where: str, problems: list[Message]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BP:
        problems.append(
            _("{where}: a share is a whole number of basis points from 0 to 10000", where=where)
        )
        return 0
    return value


def parse_rule(doc: Any, *, known_orgs: set[str]) -> Rule:
    """A sharing rule from its JSON form, or every problem in it at once. ``known_orgs``:
    the organisations that exist (a rule may not pay one that does not)."""
    if doc is None or doc == {}:
        return NO_SHARING
    if not isinstance(doc, Mapping):
        raise InvalidInput(problem=_("the sharing rule must be an object"))
    problems: list[Message] = []
    unknown_keys = set(doc) - {
        "pool_bp",
        "method",
        "roles",
        "declared",
        "floors_bp",
        "caps_bp",
        "valuation",
    }
    if unknown_keys:
        problems.append(_("the sharing rule has unknown fields: {keys}", keys=sorted(unknown_keys)))
    pool = _bp(doc.get("pool_bp", 0), "pool_bp", problems)
    method = doc.get("method", "declared")
    if method not in METHODS:
        problems.append(_("method must be one of {methods}", methods=list(METHODS)))
    roles: list[RoleShare] = []
    raw_roles = doc.get("roles", [])
    if not isinstance(raw_roles, list) or len(raw_roles) > MAX_PARTIES:
        problems.append(_("roles must be a list of at most {n} shares", n=MAX_PARTIES))
        raw_roles = []
    for i, r in enumerate(raw_roles):
        if not isinstance(r, Mapping):
            problems.append(_("roles[{i}] must be an object", i=i))
            continue
        org, role = r.get("org_id"), r.get("role")
        if org not in known_orgs:
            problems.append(_("roles[{i}]: no organisation {org}", i=i, org=str(org)[:40]))
        if role not in ROLES:
            problems.append(_("roles[{i}]: role must be one of {roles}", i=i, roles=list(ROLES)))
        roles.append(RoleShare(str(org), str(role), _bp(r.get("bp"), f"roles[{i}].bp", problems)))
    taken = pool + sum(r.bp for r in roles)
    if taken > BP:
        problems.append(
            _("role shares and the pool take {bp} basis points: at most 10000", bp=taken)
        )

    def org_map(key: str) -> dict[str, int]:
        raw = doc.get(key, {})
        if not isinstance(raw, Mapping) or len(raw) > MAX_PARTIES:
            problems.append(_("{key} must map organisations to basis points", key=key))
            return {}
        out = {}
        for org, value in raw.items():
            if org not in known_orgs:
                problems.append(_("{key}: no organisation {org}", key=key, org=str(org)[:40]))
            out[str(org)] = _bp(value, f"{key}.{str(org)[:40]}", problems)
        return out

    declared = org_map("declared")
    floors, caps = org_map("floors_bp"), org_map("caps_bp")
    if method == "declared" and pool and not any(declared.values()):
        problems.append(_("a declared split names each contributor's weight (declared)"))
    if sum(floors.values()) > BP:
        problems.append(_("the floors add up to more than the whole pool"))
    for org, floor in floors.items():
        if floor > caps.get(org, BP):
            problems.append(_("{org}: its floor is above its cap", org=org[:40]))
    valuation = doc.get("valuation", {})
    if not isinstance(valuation, Mapping):
        problems.append(_("valuation must be an object of the method's parameters"))
        valuation = {}
    if problems:
        raise InvalidInput(problem=Sentences(problems))
    return Rule(
        pool_bp=pool,
        method=str(method),
        roles=tuple(roles),
        declared=declared,
        floors_bp=floors,
        caps_bp=caps,
        valuation=dict(valuation),
    )


# --- the pool ------------------------------------------------------------------------------


def pool_fractions(
    weights: Mapping[str, float | int | Fraction],
    *,
    floors_bp: Mapping[str, int] | None = None,
    caps_bp: Mapping[str, int] | None = None,
) -> dict[str, Fraction]:
    """Each contributor's exact part of the pool: in proportion to its weight (a negative
    value counts as none; all none: equal parts), held within its floor and cap. Exactly: the
    parts are ``clamp(λ·weight, floor, cap)`` for the one λ that makes them sum to 1 (the
    Euclidean projection's form; found between the breakpoints, in fractions, no iteration
    to converge). Contributors with no weight get their floor, and what the others' caps
    leave over in equal parts.

    >>> pool_fractions({"a": 3, "b": 1})
    {'a': Fraction(3, 4), 'b': Fraction(1, 4)}
    >>> pool_fractions({"a": 3, "b": 1}, caps_bp={"a": 5000})
    {'a': Fraction(1, 2), 'b': Fraction(1, 2)}
    >>> pool_fractions({"a": 9, "b": 1}, floors_bp={"b": 2000})
    {'a': Fraction(4, 5), 'b': Fraction(1, 5)}
    """
    if not weights:
        return {}
    w = {o: max(Fraction(v), Fraction(0)) for o, v in weights.items()}
    if not any(w.values()):
        w = dict.fromkeys(weights, Fraction(1))
    lo = {o: Fraction((floors_bp or {}).get(o, 0), BP) for o in w}
    hi = {o: Fraction((caps_bp or {}).get(o, BP), BP) for o in w}
    if sum(lo.values()) > 1 or sum(hi.values()) < 1:
        raise InvalidInput(problem=_("the floors and caps cannot all be met"))
    return _clamped(w, lo, hi, Fraction(1))


def _clamped(
    w: dict[str, Fraction], lo: dict[str, Fraction], hi: dict[str, Fraction], total: Fraction
) -> dict[str, Fraction]:
    def at(lam: Fraction) -> dict[str, Fraction]:
        return {o: min(max(lam * w[o], lo[o]), hi[o]) for o in w}

    weighted = [o for o in w if w[o] > 0]
    most = sum(hi[o] for o in weighted) + sum(lo[o] for o in w if w[o] == 0)
    if total > most:  # the weighted are all capped: the rest goes to the others equally
        rest = [o for o in w if w[o] == 0]
        out = {o: hi[o] for o in weighted}
        left = total - sum(out.values())
        return out | _clamped(dict.fromkeys(rest, Fraction(1)), lo, hi, left)
    points = sorted({Fraction(0)} | {b / w[o] for o in weighted for b in (lo[o], hi[o])})
    previous = points[0]
    for point in points:
        reached = sum(at(point).values())
        if reached == total:
            return at(point)
        if reached > total:
            mid = at((previous + point) / 2)
            free = [o for o in weighted if lo[o] < mid[o] < hi[o]]
            pinned = sum(v for o, v in mid.items() if o not in free)
            lam = (total - pinned) / sum(w[o] for o in free)
            return at(lam)
        previous = point
    return at(points[-1])  # unreachable: total <= most is reached at the last breakpoint


# --- the order's split ---------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One party's part of an order's revenue: ``kind`` role | contributor | seller."""

    org_id: str
    kind: str
    amount: int
    exact: Fraction
    task: str | None = None
    weight: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "kind": self.kind,
            "role": self.task,
            "amount_fen": self.amount,
            "share": f"{self.exact.numerator}/{self.exact.denominator}",
            "weight": self.weight,
        }


def largest_remainder(amount: int, exact: Sequence[Fraction]) -> list[int]:
    """``amount`` fen divided in the proportions ``exact`` (summing to 1): each rounded down,
    the fen left over one each to the largest remainders, the earlier first on a tie.

    >>> largest_remainder(100, [Fraction(1, 3)] * 3)
    [34, 33, 33]
    """
    if amount < 0:
        raise InvalidInput(problem=_("an amount to split cannot be negative"))
    if sum(exact) != 1:
        raise ValueError("the proportions must sum to 1")
    raw = [amount * e for e in exact]
    out = [int(r) for r in raw]  # floor: all are non-negative
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[: amount - sum(out)]:
        out[i] += 1
    return out


def split(
    amount: int,
    rule: Rule,
    *,
    seller_org_id: str,
    weights: Mapping[str, float | int | Fraction],
) -> list[Line]:
    """The order's seller-side ``amount`` (fen) split by ``rule``: the role shares, the pool
    among ``weights`` (the contributors' values by the rule's method), the rest to the seller.
    Lines of zero fen are kept (they show a contributor was counted); they sum to ``amount``."""
    parties: list[tuple[str, str, str | None, Fraction, float | None]] = []
    for r in rule.roles:
        parties.append((r.org_id, "role", r.task, Fraction(r.bp, BP), None))
    pool = Fraction(rule.pool_bp, BP)
    if pool and weights:
        parts = pool_fractions(weights, floors_bp=rule.floors_bp, caps_bp=rule.caps_bp)
        for org in sorted(parts):
            parties.append((org, "contributor", None, pool * parts[org], float(weights[org])))
    else:
        pool = Fraction(0)  # no contributor to pay: the pool stays with the seller
    rest = Fraction(1) - sum((p[3] for p in parties), Fraction(0))
    parties.append((seller_org_id, "seller", None, rest, None))
    amounts = largest_remainder(amount, [p[3] for p in parties])
    return [
        Line(org_id=o, kind=k, task=task, exact=e, amount=a, weight=w)
        for (o, k, task, e, w), a in zip(parties, amounts, strict=True)
    ]
