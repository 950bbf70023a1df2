"""A differencing attack: two counts that differ by one person. Without noise their
difference says exactly whether that person is in the data; under the contract's DP, an
attacker who sees both answers guesses no better than e^ε / (1 + e^ε) for the ε the two
queries spent together. The test runs the attack many times and measures its success."""

from __future__ import annotations

import math
import random

import pyarrow as pa

from yaosu.access import dp, governance

GRANT = governance.Grant(
    "ds_p", "__src", {"town": "VARCHAR", "fee": "BIGINT"}, frozenset({"town", "fee"}), mask_key="k"
)
A = "SELECT COUNT(*) AS n FROM ds_p WHERE town = 'x'"
B = "SELECT COUNT(*) AS n FROM ds_p WHERE town = 'x' AND fee <> 4321"  # all but the target


def _answer(query: str, exact_n: int, epsilon: float) -> int:
    governed = governance.govern(query, {"ds_p": GRANT}, aggregate_only=True, dp=True)
    released = dp.release(
        pa.table({"__n": [exact_n]}),
        governed,
        epsilon=epsilon,
        delta=1e-6,
        bounds={},
        min_group_size=10,
    )
    return int(released.table.column("n")[0].as_py())


def test_the_difference_of_two_counts_reveals_no_more_than_the_budget_allows() -> None:
    epsilon_each, trials = 0.25, 300
    rng = random.Random(7)
    correct = 0
    for _ in range(trials):
        present = rng.random() < 0.5
        others = 57  # the rest of the town
        a = _answer(A, others + (1 if present else 0), epsilon_each)
        b = _answer(B, others, epsilon_each)
        guess = (a - b) > 0.5 if a != b else rng.random() < 0.5
        correct += guess == present
    accuracy = correct / trials
    bound = math.exp(2 * epsilon_each) / (1 + math.exp(2 * epsilon_each))  # 0.62 for ε = 0.5
    # three standard errors of slack for the sampling
    slack = 3 * math.sqrt(bound * (1 - bound) / trials)
    assert accuracy <= bound + slack, (accuracy, bound)
    # Without noise (an aggregate-only contract with no budget: exact counts, small groups
    # suppressed) the same attack is always right, since both groups are large: minimum
    # group sizes alone do not stop differencing; the noise does.
    exact_right = 0
    for _ in range(50):
        present = rng.random() < 0.5
        a, b = _exact(A, 57 + (1 if present else 0)), _exact(B, 57)
        exact_right += ((a - b) == 1) == present
    assert exact_right == 50


def _exact(query: str, exact_n: int) -> int:
    governed = governance.govern(
        query, {"ds_p": GRANT}, aggregate_only=True, dp=False, min_group_size=10
    )
    return int(dp.suppress_small(pa.table({"__n": [exact_n]}), governed).column("n")[0].as_py())
