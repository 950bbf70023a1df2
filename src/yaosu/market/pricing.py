"""Prices: three pricing classes bound to the purpose taxonomy, charge units, progressive
tiers, caps, fees and quotes, all in integer fen (分).

- **free**: public governance and public welfare (the purposes whose pricing is ``free``)
  pay nothing, whatever the product; a ``free`` product charges no purpose at all.
- **capped**: public data used for industry (发改价格〔2025〕65号): a fixed or tiered price
  per charge unit, no unit priced above the 上限收费标准 the authorising body set
  (``cap_unit_fen``), trial tariffs until a year of operation.
- **market**: enterprise data: fixed, tiered, or negotiated (the accepted amount).

Tiers are progressive, as Fujian's implementation prices them: each unit is priced by the
tier it falls in (the first 1,000 calls at one price, the next 9,000 at another...), like
brackets, not by the tier the whole quantity reaches.

>>> rule = parse_rule({"model": "tiered", "unit": "calls",
...                    "tiers": [{"up_to": 100, "unit_fen": 50}, {"up_to": None, "unit_fen": 30}]})
>>> [(line.units, line.fen) for line in progressive(rule.tiers, 250)]
[(100, 5000), (150, 4500)]
>>> fee(4_5999, 250), fee(1, 5000)
(1150, 1)
>>> yuan(123456), yuan(-5), yuan(0)
('¥1,234.56', '-¥0.05', '¥0.00')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import Message, Sentences, _
from yaosu.market.ledger import yuan

CLASSES = ("free", "capped", "market")
# 按产品数量、服务次数、服务时长、数据量计费
UNITS = ("count", "calls", "hours", "megabytes")
MODELS = ("free", "fixed", "tiered", "negotiated")
# Which price models each class may use.
MODELS_OF = {
    "free": ("free",),
    "capped": ("fixed", "tiered"),
    "market": ("fixed", "tiered", "negotiated"),
}
MAX_QUANTITY = 1_000_000_000  # per order
MAX_FEN = 10**13  # ¥100 billion: far above any order, far below BigInteger's range
MAX_TIERS = 20
TRIAL = timedelta(days=365)  # trial tariffs until a year of operation


@dataclass(frozen=True)
class Tier:
    up_to: int | None  # the last unit this tier prices (cumulative); None: every unit after
    unit_fen: int


@dataclass(frozen=True)
class PriceRule:
    model: str
    unit: str
    unit_fen: int = 0  # fixed
    tiers: tuple[Tier, ...] = ()  # tiered

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "unit": self.unit}
        if self.model == "fixed":
            out["unit_fen"] = self.unit_fen
        if self.model == "tiered":
            out["tiers"] = [{"up_to": t.up_to, "unit_fen": t.unit_fen} for t in self.tiers]
        return out

    def highest_unit_fen(self) -> int:
        """The dearest unit this rule can charge: what a cap is compared with."""
        if self.model == "fixed":
            return self.unit_fen
        return max((t.unit_fen for t in self.tiers), default=0)


@dataclass(frozen=True)
class Line:
    """One tier's share of a quote."""

    tier: int
    units: int
    unit_fen: int
    fen: int


@dataclass(frozen=True)
class Quote:
    """What an order for ``quantity`` units for ``purpose`` pays, and who gets what: the
    platform's service fee and the operator's fee are parts of ``amount_fen``, the seller
    gets the rest."""

    product_id: str
    purpose: str
    pricing_class: str  # the class this quote was priced under: the purpose's free wins
    unit: str
    quantity: int
    amount_fen: int
    platform_fee_fen: int
    operator_fee_fen: int
    seller_fen: int
    platform_fee_bp: int
    operator_fee_bp: int
    trial: bool = False
    lines: tuple[Line, ...] = ()
    negotiation_id: str | None = None
    basis: Message | None = field(default=None, compare=False)  # why this amount


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_rule(doc: Any, *, pricing_class: str | None = None) -> PriceRule:
    """A price rule from its JSON form, or ``InvalidInput`` naming every problem."""
    problems: list[Message] = []
    if not isinstance(doc, dict):
        raise InvalidInput(problem=_("the price must be an object with a model and a unit"))
    model, unit = doc.get("model"), doc.get("unit", "count")
    if model not in MODELS:
        problems.append(_("price.model must be one of {models}", models=list(MODELS)))
    if unit not in UNITS:
        problems.append(_("price.unit must be one of {units}", units=list(UNITS)))
    if pricing_class is not None and model in MODELS and model not in MODELS_OF[pricing_class]:
        problems.append(
            _(
                "a {pricing} product is priced {models}, not {model}",
                pricing=pricing_class,
                models=list(MODELS_OF[pricing_class]),
                model=model,
            )
        )
    unit_fen, tiers = 0, []
    if model == "fixed":
        unit_fen = _int(doc.get("unit_fen")) or 0
        if _int(doc.get("unit_fen")) is None or not 0 < unit_fen <= MAX_FEN:
            problems.append(
                _("price.unit_fen must be a whole number of fen from 1 to {max}", max=MAX_FEN)
            )
    if model == "tiered":
        raw = doc.get("tiers")
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_TIERS:
            problems.append(_("price.tiers must list 1 to {max} tiers", max=MAX_TIERS))
            raw = []
        last = 0
        for i, t in enumerate(raw):
            where = f"price.tiers[{i}]"
            up_to = t.get("up_to") if isinstance(t, dict) else "?"
            fen_ = _int(t.get("unit_fen")) if isinstance(t, dict) else None
            if fen_ is None or not 0 < fen_ <= MAX_FEN:
                problems.append(
                    _(
                        "{where}.unit_fen must be a whole number of fen from 1 to {max}",
                        where=where,
                        max=MAX_FEN,
                    )
                )
            is_last = i == len(raw) - 1
            bound = _int(up_to)
            if up_to is None and not is_last:
                problems.append(_("{where}: only the last tier is open-ended", where=where))
            elif up_to is not None and (bound is None or bound <= last or bound > MAX_QUANTITY):
                problems.append(
                    _(
                        "{where}.up_to must be a whole number above the previous tier's ({last})",
                        where=where,
                        last=last,
                    )
                )
            elif is_last and up_to is not None:
                problems.append(
                    _("{where}: the last tier must be open-ended (up_to null)", where=where)
                )
            else:
                last = bound if bound is not None else last
                tiers.append(Tier(bound, fen_ or 0))
    if problems:
        raise InvalidInput(problem=Sentences(problems))
    return PriceRule(str(model), str(unit), unit_fen, tuple(tiers))


def progressive(tiers: tuple[Tier, ...], quantity: int) -> list[Line]:
    """Each unit priced by the tier it falls in."""
    lines, done = [], 0
    for i, tier in enumerate(tiers):
        if done >= quantity:
            break
        top = quantity if tier.up_to is None else min(tier.up_to, quantity)
        units = top - done
        if units > 0:
            lines.append(Line(i, units, tier.unit_fen, units * tier.unit_fen))
            done = top
    return lines


def fee(amount_fen: int, bp: int) -> int:
    """``bp`` basis points of an amount, rounded half up, in whole fen."""
    return (amount_fen * bp + 5_000) // 10_000


def check_quantity(quantity: Any) -> int:
    if _int(quantity) is None or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            problem=_("the quantity must be a whole number from 1 to {max}", max=MAX_QUANTITY)
        )
    return int(quantity)


def check_fees(platform_bp: Any, operator_bp: Any) -> None:
    for name, bp in (("platform_fee_bp", platform_bp), ("operator_fee_bp", operator_bp)):
        if _int(bp) is None or not 0 <= bp <= 10_000:
            raise InvalidInput(problem=_("{name} must be basis points from 0 to 10000", name=name))
    if platform_bp + operator_bp > 10_000:
        raise InvalidInput(
            problem=_("the fees together may not exceed the price (10000 basis points)")
        )


def check_cap(rule: PriceRule, cap_unit_fen: int | None) -> None:
    """A capped product's dearest unit may not exceed its 上限收费标准."""
    if cap_unit_fen is not None and rule.highest_unit_fen() > cap_unit_fen:
        raise InvalidInput(
            problem=_(
                "the price {price} per unit exceeds the cap {cap} the authorising body set",
                price=yuan(rule.highest_unit_fen()),
                cap=yuan(cap_unit_fen),
            )
        )


def in_trial(first_listed_at: datetime | None, now: datetime) -> bool:
    """Trial tariffs (试行) until a year of operation."""
    return first_listed_at is None or now < first_listed_at + TRIAL


def price(
    *,
    product_id: str,
    pricing_class: str,
    rule: PriceRule,
    purpose: str,
    purpose_pricing: str,
    quantity: int,
    platform_fee_bp: int,
    operator_fee_bp: int,
    trial: bool,
    negotiated_fen: int | None = None,
    negotiation_id: str | None = None,
) -> Quote:
    """The quote, given everything it depends on (the database part is in ``products``)."""
    quantity = check_quantity(quantity)
    lines: tuple[Line, ...] = ()
    if purpose_pricing == "free" or pricing_class == "free":
        amount, basis = 0, _("free: public governance and public welfare pay nothing")
        if pricing_class == "free":
            basis = _("a free product")
        pricing_class = "free"
    elif rule.model == "negotiated":
        if negotiated_fen is None:
            raise InvalidInput(
                problem=_(
                    "this product's price is negotiated: make an offer, and quote the accepted negotiation"
                )
            )
        amount, basis = negotiated_fen, _("the negotiated amount")
    elif rule.model == "fixed":
        lines = (Line(0, quantity, rule.unit_fen, quantity * rule.unit_fen),)
        amount, basis = lines[0].fen, _("a fixed price per unit")
    else:
        lines = tuple(progressive(rule.tiers, quantity))
        amount, basis = sum(line.fen for line in lines), _("progressive tiers")
    if amount > MAX_FEN:
        raise InvalidInput(
            problem=_(
                "the amount {amount} exceeds what one order may pay ({max})",
                amount=yuan(amount),
                max=yuan(MAX_FEN),
            )
        )
    platform, operator = fee(amount, platform_fee_bp), fee(amount, operator_fee_bp)
    return Quote(
        product_id=product_id,
        purpose=purpose,
        pricing_class=pricing_class,
        unit=rule.unit,
        quantity=quantity,
        amount_fen=amount,
        platform_fee_fen=platform,
        operator_fee_fen=operator,
        seller_fen=amount - platform - operator,
        platform_fee_bp=platform_fee_bp,
        operator_fee_bp=operator_fee_bp,
        trial=trial and pricing_class == "capped",
        lines=lines,
        negotiation_id=negotiation_id,
        basis=basis,
    )


def allowed_revenue(*, cost_fen: int, profit_fen: int, tax_fen: int, deduction_fen: int) -> int:
    """最高准许收入: operating cost + allowed profit + tax, less the previous period's excess.

    >>> allowed_revenue(cost_fen=800, profit_fen=100, tax_fen=100, deduction_fen=250)
    750
    """
    return max(0, cost_fen + profit_fen + tax_fen - deduction_fen)


def excess(*, revenue_fen: int, allowed_fen: int) -> int:
    """Revenue above the allowed revenue: deducted from the next period's.

    >>> excess(revenue_fen=1200, allowed_fen=1000), excess(revenue_fen=900, allowed_fen=1000)
    (200, 0)
    """
    return max(0, revenue_fen - allowed_fen)
