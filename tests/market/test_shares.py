"""Revenue shares, pure: a sharing rule is checked whole, the pool is split in proportion
within floors and caps (exactly), and an order's money is divided to the fen with nothing lost
or made, whatever the amount, the weights and the rule."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaosu.kernel.errors import InvalidInput
from yaosu.market import shares
from yaosu.market.ledger import MAX_FEN

ORGS = {f"org_{i}" for i in range(8)}

amounts = st.integers(min_value=0, max_value=MAX_FEN)
weights = st.dictionaries(
    st.sampled_from(sorted(ORGS)),
    st.floats(min_value=-5, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(amount=amounts, w=weights, pool=st.integers(0, 10_000), data=st.data())
def test_a_split_conserves_money_to_the_fen(
    amount: int, w: dict[str, float], pool: int, data: st.DataObject
) -> None:
    role_bp = data.draw(st.integers(0, 10_000 - pool))
    rule = shares.Rule(
        pool_bp=pool,
        method="declared",
        roles=(shares.RoleShare("org_7", "deidentification", role_bp),),
    )
    lines = shares.split(amount, rule, seller_org_id="seller", weights=w)
    assert sum(line.amount for line in lines) == amount
    assert all(line.amount >= 0 for line in lines)
    # each line is its exact share rounded down or up, never further
    for line in lines:
        assert abs(line.amount - amount * line.exact) < 1
    assert sum(line.exact for line in lines) == 1
    role = next(line for line in lines if line.kind == "role")
    assert role.exact == Fraction(role_bp, 10_000)


@settings(max_examples=300, deadline=None)
@given(w=weights, data=st.data())
def test_the_pool_respects_floors_and_caps_and_is_proportional_between_them(
    w: dict[str, float], data: st.DataObject
) -> None:
    orgs = sorted(w)
    n = len(orgs)
    floors = {o: data.draw(st.integers(0, 10_000 // n)) for o in orgs}
    caps = {o: data.draw(st.integers(max(floors[o], -(-10_000 // n)), 10_000)) for o in orgs}
    parts = shares.pool_fractions(w, floors_bp=floors, caps_bp=caps)
    assert sum(parts.values()) == 1
    for o in orgs:
        assert Fraction(floors[o], 10_000) <= parts[o] <= Fraction(caps[o], 10_000)
    # between their bounds, parties get the same part per unit of weight (one λ)
    free = [
        o
        for o in orgs
        if Fraction(floors[o], 10_000) < parts[o] < Fraction(caps[o], 10_000) and w[o] > 0
    ]
    ratios = {parts[o] / Fraction(w[o]) for o in free}
    assert len(ratios) <= 1


def test_weights_shares_and_rounding_on_known_cases() -> None:
    assert shares.pool_fractions({"a": 1, "b": 1, "c": 2}) == {
        "a": Fraction(1, 4),
        "b": Fraction(1, 4),
        "c": Fraction(1, 2),
    }
    # negative values count as none; all none: equal parts
    assert shares.pool_fractions({"a": -1.0, "b": 3.0}) == {"a": 0, "b": 1}
    assert shares.pool_fractions({"a": -1.0, "b": 0}) == {"a": Fraction(1, 2), "b": Fraction(1, 2)}
    # a zero-weight party gets its floor, and what the capped others leave
    assert shares.pool_fractions({"a": 5, "b": 0}, caps_bp={"a": 6000}) == {
        "a": Fraction(3, 5),
        "b": Fraction(2, 5),
    }
    assert shares.largest_remainder(10, [Fraction(1, 3)] * 3) == [4, 3, 3]
    assert shares.largest_remainder(2, [Fraction(1, 6), Fraction(1, 2), Fraction(1, 3)]) == [
        0,
        1,
        1,
    ]
    with pytest.raises(InvalidInput):
        shares.pool_fractions({"a": 1, "b": 1}, floors_bp={"a": 6000, "b": 6000})
    with pytest.raises(InvalidInput):
        shares.pool_fractions({"a": 1, "b": 1}, caps_bp={"a": 4000, "b": 4000})
    rule = shares.Rule(pool_bp=6000, roles=(shares.RoleShare("p", "cleaning", 1000),))
    lines = shares.split(10_001, rule, seller_org_id="s", weights={"a": 2, "b": 1})
    got = {(line.kind, line.org_id): line.amount for line in lines}
    # 10% role, 60% pool split 2:1 (4000.4 and 2000.2 fen), the seller the rest (3000.3)
    assert got == {
        ("role", "p"): 1000,
        ("contributor", "a"): 4001,
        ("contributor", "b"): 2000,
        ("seller", "s"): 3000,
    }
    # no contributor: the pool stays with the seller
    alone = shares.split(500, rule, seller_org_id="s", weights={})
    assert [(line.kind, line.amount) for line in alone] == [("role", 50), ("seller", 450)]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ([], "must be an object"),
        ({"pool_bp": 10_001}, "basis points"),
        ({"pool_bp": 1.5}, "basis points"),
        ({"pool_bp": True}, "basis points"),
        ({"pool_bp": 5000, "method": "vibes"}, "method must be one of"),
        ({"pool_bp": 5000, "method": "declared"}, "declared"),
        (
            {"pool_bp": 6000, "roles": [{"org_id": "org_1", "role": "cleaning", "bp": 5000}]},
            "at most 10000",
        ),
        ({"roles": [{"org_id": "nobody", "role": "cleaning", "bp": 10}]}, "no organisation"),
        ({"roles": [{"org_id": "org_1", "role": "dancing", "bp": 10}]}, "role must be one of"),
        ({"roles": "all"}, "roles must be a list"),
        ({"floors_bp": {"org_1": 6000, "org_2": 6000}}, "more than the whole pool"),
        ({"floors_bp": {"org_1": 3000}, "caps_bp": {"org_1": 2000}}, "floor is above its cap"),
        ({"surprise": 1}, "unknown fields"),
        ({"valuation": "fast"}, "valuation must be an object"),
    ],
)
def test_bad_rules_are_refused_with_every_problem_named(doc: object, needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        shares.parse_rule(doc, known_orgs=ORGS)
    assert needle in caught.value.message("en")


def test_a_good_rule_round_trips() -> None:
    doc = {
        "pool_bp": 6000,
        "method": "shapley",
        "roles": [{"org_id": "org_1", "role": "deidentification", "bp": 500}],
        "declared": {},
        "floors_bp": {"org_2": 1000},
        "caps_bp": {"org_2": 5000},
        "valuation": {"target": "销量", "seed": 7},
    }
    rule = shares.parse_rule(doc, known_orgs=ORGS)
    assert rule.as_json() == doc
    assert shares.parse_rule(None, known_orgs=ORGS) == shares.NO_SHARING
