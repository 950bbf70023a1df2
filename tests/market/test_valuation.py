"""Contribution valuation: Shapley's axioms on random games, each method against its
definition by brute force, KNN-Shapley against exact Shapley of the KNN utility, copies."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from yaosu.kernel.errors import InvalidInput
from yaosu.market.valuation import (
    MAX_EXACT,
    Utility,
    exact_shapley,
    group_values,
    knn_shapley,
    leave_one_out,
    model_utility,
    monte_carlo_shapley,
    near_duplicates,
)


def table_game(n: int, seed: int) -> tuple[Utility, np.ndarray]:
    """A random game: an arbitrary score per coalition, empty coalition included."""
    table = np.random.default_rng(seed).normal(size=1 << n)
    return Utility(lambda mask: table[int(np.dot(mask, 1 << np.arange(n)))], n), table


def brute_shapley(table: np.ndarray, n: int) -> np.ndarray:
    """The definition: the average marginal contribution over all n! orders."""
    total = np.zeros(n)
    for order in itertools.permutations(range(n)):
        coalition = 0
        for player in order:
            total[player] += table[coalition | 1 << player] - table[coalition]
            coalition |= 1 << player
    return total / math.factorial(n)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_exact_equals_the_average_over_all_orders(n: int) -> None:
    utility, table = table_game(n, seed=n)
    values = exact_shapley(utility, n)
    assert np.allclose(values.values, brute_shapley(table, n), atol=1e-12)
    assert values.method == "exact" and values.evaluations == 2**n
    assert len(values.utilities) == 2**n and values.utilities["0b0"] == table[0]


@pytest.mark.parametrize("seed", range(5))
def test_efficiency_symmetry_null_player_and_additivity(seed: int) -> None:
    n = 5
    rng = np.random.default_rng(100 + seed)
    base = rng.normal(size=1 << n)
    masks = np.arange(1 << n)
    # Player 4 is null (adding it changes nothing); players 0 and 1 are symmetric.
    table = base[masks & ~(1 << 4)]
    swap = (masks & ~0b11) | ((masks & 1) << 1) | ((masks >> 1) & 1)
    table = (table + table[swap]) / 2
    game = Utility(lambda m: table[int(np.dot(m, 1 << np.arange(n)))], n)
    v = np.array(exact_shapley(game, n).values)
    assert v.sum() == pytest.approx(table[-1] - table[0], abs=1e-12)
    assert v[4] == pytest.approx(0, abs=1e-12)
    assert v[0] == pytest.approx(v[1], abs=1e-12)
    assert abs(v[0] - v[2]) > 1e-6  # the game is not trivially symmetric everywhere
    other = rng.normal(size=1 << n)
    added = Utility(lambda m: (table + other)[int(np.dot(m, 1 << np.arange(n)))], n)
    alone = Utility(lambda m: other[int(np.dot(m, 1 << np.arange(n)))], n)
    w = np.array(exact_shapley(alone, n).values)
    assert np.allclose(exact_shapley(added, n).values, v + w, atol=1e-12)


def test_monte_carlo_is_within_its_stated_error_and_reproducible() -> None:
    n = 8
    utility, table = table_game(n, seed=11)
    exact = np.array(exact_shapley(utility, n).values)
    mc = monte_carlo_shapley(utility, n, seed=3, tolerance=0.02, max_permutations=20_000)
    assert mc.converged is True and mc.stderr is not None and mc.permutations is not None
    assert max(mc.stderr) <= 0.02
    assert mc.permutations >= 100 and mc.permutations % 2 == 0
    off = np.abs(np.array(mc.values) - exact) / np.array(mc.stderr)
    assert (off <= 4).all(), off
    # Each antithetic pair's marginals sum to u(all) - u(empty): so does the estimate.
    assert sum(mc.values) == pytest.approx(table[-1] - table[0], abs=1e-9)
    again = monte_carlo_shapley(table_game(n, seed=11)[0], n, seed=3, tolerance=0.02)
    assert again.values == mc.values and again.permutations == mc.permutations
    other = monte_carlo_shapley(table_game(n, seed=11)[0], n, seed=4, tolerance=0.02)
    assert other.values != mc.values
    assert mc.utilities == {"0b0": table[0], bin(2**n - 1): table[-1]}


def test_monte_carlo_stops_at_the_cap_unconverged() -> None:
    n = 10
    utility, _ = table_game(n, seed=5)
    mc = monte_carlo_shapley(
        utility, n, seed=1, tolerance=1e-6, min_permutations=10, max_permutations=40, batch=10
    )
    assert mc.converged is False and mc.permutations == 40
    assert max(mc.stderr or ()) > 1e-6
    assert mc.evaluations == utility.evaluations <= 40 * n + 1


def test_leave_one_out_is_what_the_grand_coalition_loses() -> None:
    n = 4
    utility, table = table_game(n, seed=7)
    loo = leave_one_out(utility, n)
    full = 2**n - 1
    assert loo.values == tuple(table[full] - table[full & ~(1 << i)] for i in range(n))
    assert loo.evaluations == n + 2  # grand, empty and one coalition per player


def test_the_cache_counts_evaluations() -> None:
    calls = []
    utility = Utility(lambda m: calls.append(m.copy()) or float(m.sum()), 6)
    exact_shapley(utility, 6)
    assert utility.evaluations == len(calls) == 64
    again = exact_shapley(utility, 6)
    assert again.evaluations == 0 and len(calls) == 64  # every coalition came from the cache
    assert [bool(b) for b in calls[0b101]] == [True, False, True, False, False, False]
    assert leave_one_out(utility, 6).evaluations == 0


def test_evidence_is_json() -> None:
    utility, _ = table_game(3, seed=1)
    evidence = exact_shapley(utility, 3).as_evidence()
    assert json.loads(json.dumps(evidence, allow_nan=False)) == evidence
    assert evidence["total"] == pytest.approx(evidence["grand_minus_empty"])
    assert set(evidence) >= {
        "method",
        "values",
        "stderr",
        "evaluations",
        "permutations",
        "converged",
        "seed",
        "utilities",
        "parameters",
    }
    mc = monte_carlo_shapley(utility, 3, seed=9).as_evidence()
    assert mc["seed"] == 9 and mc["parameters"]["tolerance"] == 0.005


# --- KNN-Shapley against the definition ------------------------------------------------------


def knn_utility(x_tr, y_tr, x_te, y_te, k: int, task: str):
    def u(subset: tuple[int, ...]) -> float:
        total = 0.0
        for t, target in zip(x_te, y_te, strict=True):
            if not subset:
                total += 0.0 if task == "classification" else -(target**2)
                continue
            idx = np.array(subset)
            d = ((x_tr[idx] - t) ** 2).sum(1)
            near = idx[np.argsort(d)[:k]]
            if task == "classification":
                total += np.sum(y_tr[near] == target) / k
            else:
                total += -((np.sum(y_tr[near]) / k - target) ** 2)
        return total / len(x_te)

    return u


def brute_point_shapley(u, n: int) -> np.ndarray:
    values = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            weight = 1 / (n * math.comb(n - 1, size))
            for s in itertools.combinations(others, size):
                values[i] += weight * (u(tuple(sorted((*s, i)))) - u(s))
    return values


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize(("n", "k"), [(1, 1), (2, 3), (5, 1), (6, 2), (7, 3), (8, 3), (8, 8)])
def test_knn_shapley_equals_exact_shapley_of_the_knn_utility(task: str, n: int, k: int) -> None:
    rng = np.random.default_rng(n * 10 + k)
    x_tr, x_te = rng.normal(size=(n, 2)), rng.normal(size=(3, 2))
    if task == "classification":
        y_tr, y_te = rng.integers(0, 3, n), rng.integers(0, 3, 3)
    else:
        y_tr, y_te = rng.normal(size=n), rng.normal(size=3)
    fast = knn_shapley(x_tr, y_tr, x_te, y_te, k=k, task=task)
    u = knn_utility(x_tr, y_tr, x_te, y_te, k, task)
    assert np.allclose(fast, brute_point_shapley(u, n), atol=1e-12)
    assert fast.sum() == pytest.approx(u(tuple(range(n))) - u(()), abs=1e-12)


def test_knn_shapley_in_chunks_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    x_tr, y_tr = rng.normal(size=(300, 4)), rng.integers(0, 2, 300)
    x_te, y_te = rng.normal(size=(50, 4)), rng.integers(0, 2, 50)
    whole = knn_shapley(x_tr, y_tr, x_te, y_te, k=5)
    monkeypatch.setattr("yaosu.market.valuation.MEMORY", 64 * 300 * 7)  # 7 test rows a chunk
    assert np.allclose(knn_shapley(x_tr, y_tr, x_te, y_te, k=5), whole, atol=1e-14)


def test_group_values_sum_per_player_in_order() -> None:
    got = group_values(
        np.array([1.0, 2.0, 4.0, 8.0]), np.array(["b", "a", "b", "c"]), players=["c", "a", "b", "d"]
    )
    assert got == (8.0, 2.0, 5.0, 0.0)
    with pytest.raises(InvalidInput):
        group_values(np.array([1.0]), np.array(["z"]), players=["a"])


# --- model utilities --------------------------------------------------------------------------


def blobs(seed: int = 0, per: int = 30, groups: int = 4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, per * groups)
    x = rng.normal(size=(len(y), 3)) + y[:, None] * 1.5
    g = np.repeat(np.arange(groups), per)
    return x, y, g


def test_knn_utility_matches_scikit_learn() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    x, y, g = blobs()
    xv, yv, _ = blobs(seed=1, per=20, groups=2)
    utility = model_utility(x, y, g, task="classification", model="knn", k=3, validation=(xv, yv))
    for mask in (0b0001, 0b0110, 0b1111):
        rows = np.isin(g, [i for i in range(4) if mask >> i & 1])
        expected = KNeighborsClassifier(3).fit(x[rows], y[rows]).score(xv, yv)
        assert utility(mask) == pytest.approx(expected, abs=1e-12)
    assert utility(0) == 0.5  # the baseline: chance, two classes
    assert utility.players == (0, 1, 2, 3)


def test_ridge_utility_matches_scikit_learn() -> None:
    from sklearn.linear_model import Ridge, RidgeClassifier

    x, y, g = blobs(seed=3)
    target = x @ np.array([1.0, -2.0, 0.5]) + np.random.default_rng(0).normal(size=len(x))
    xv, yv, _ = blobs(seed=4, per=20, groups=2)
    tv = xv @ np.array([1.0, -2.0, 0.5])
    reg = model_utility(
        x, target, g, task="regression", model="ridge", alpha=2.0, validation=(xv, tv)
    )
    cls = model_utility(x, y, g, task="classification", model="ridge", validation=(xv, yv))
    for mask in (0b0001, 0b1010, 0b1111):
        rows = np.isin(g, [i for i in range(4) if mask >> i & 1])
        assert reg(mask) == pytest.approx(Ridge(alpha=2.0).fit(x[rows], target[rows]).score(xv, tv))
        assert cls(mask) == pytest.approx(RidgeClassifier().fit(x[rows], y[rows]).score(xv, yv))
    assert reg(0) == 0.0


def test_logistic_utility_and_its_baseline_for_one_class() -> None:
    from sklearn.linear_model import LogisticRegression

    x, y, g = blobs(seed=5)
    y = y.copy()
    y[g == 0] = 1  # group 0 holds one class only: it cannot train a classifier alone
    xv, yv, _ = blobs(seed=6, per=20, groups=2)
    utility = model_utility(
        x, y, g, task="classification", model="logistic", validation=(xv, yv), baseline=0.1
    )
    assert utility(0b0001) == 0.1 and utility(0) == 0.1
    rows = g != 1
    expected = LogisticRegression(max_iter=1000).fit(x[rows], y[rows]).score(xv, yv)
    assert utility(0b1101) == pytest.approx(expected) and expected > 0.6
    split = model_utility(
        x, y, g, task="classification", model="knn", validation_fraction=0.25, seed=1
    )
    assert split.description["validation"] == "split"
    assert split.description["training_rows"] == 90 and split.description["validation_rows"] == 30


def test_an_uninformative_contributor_is_worth_less_than_an_informative_one() -> None:
    x, y, g = blobs(seed=6, per=40, groups=3)
    y = y.copy()
    y[g == 2] = np.random.default_rng(8).integers(0, 2, 40)  # labels at random
    xv, yv, _ = blobs(seed=7, per=50, groups=2)
    utility = model_utility(x, y, g, task="classification", model="knn", k=5, validation=(xv, yv))
    v = exact_shapley(utility, 3).values
    assert v[2] < min(v[0], v[1])


# --- copies ------------------------------------------------------------------------------------


def test_near_duplicates_drop_later_copies_only() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 3))
    b = rng.normal(size=(20, 3))
    x = np.vstack([b, a, a[:5] + rng.normal(scale=1e-5, size=(5, 3)), b[:3], b[:1]])
    g = np.array(["B"] * 20 + ["A"] * 20 + ["C"] * 5 + ["C"] * 3 + ["B"])
    keep = near_duplicates(x, g, priority=["A", "B", "C"])
    assert keep[:40].all()  # originals stay, whoever is listed first
    assert not keep[40:].any()  # noisy copies of A, exact copies of B, B's own repeat
    keep_bc = near_duplicates(x[:20], g[:20], priority=["B"])
    assert keep_bc.all()
    far = np.vstack([a, a + 0.5])  # half a standard deviation away: other data
    assert near_duplicates(far, np.array(["A"] * 20 + ["C"] * 20), priority=["A", "C"]).all()


def split_values(x, y, g, xv, yv, players):
    utility = model_utility(
        x, y, g, task="classification", model="knn", k=3, validation=(xv, yv), players=players
    )
    v = np.array(exact_shapley(utility, len(players)).values)
    return v / v.sum()


@pytest.mark.parametrize("noise", [0.0, 1e-4])
def test_copying_does_not_raise_the_copiers_share(noise: float) -> None:
    rng = np.random.default_rng(0)
    players = ["A", "B", "C"]
    g = np.repeat(players, [40, 40, 10])  # C registered last, with little data of its own
    y = rng.integers(0, 2, len(g))
    x = rng.normal(size=(len(g), 2)) + y[:, None] * 1.5
    yv = rng.integers(0, 2, 80)
    xv = rng.normal(size=(80, 2)) + yv[:, None] * 1.5
    honest = split_values(x, y, g, xv, yv, players)
    # C adds A's rows (exact, or with noise of 1e-4 standard deviations) and its own twice more.
    copies = x[g == "A"] + rng.normal(scale=noise, size=(40, 2))
    xc = np.vstack([x, copies, x[g == "C"], x[g == "C"]])
    yc = np.concatenate([y, y[g == "A"], y[g == "C"], y[g == "C"]])
    gc = np.concatenate([g, ["C"] * 60])
    greedy = split_values(xc, yc, gc, xv, yv, players)
    assert greedy[2] > honest[2] + 0.1  # undetected, copying would pay (so the test can fail)
    keep = near_duplicates(xc, gc, priority=players)
    assert keep.sum() == len(g) and keep[: len(g)].all()
    deduped = split_values(xc[keep], yc[keep], gc[keep], xv, yv, players)
    assert np.allclose(deduped, honest, atol=1e-12)


# --- bad input ---------------------------------------------------------------------------------


def test_bad_input_is_refused() -> None:
    x, y, g = blobs()
    big = Utility(lambda m: 0.0, MAX_EXACT + 1)
    with pytest.raises(InvalidInput, match="at most"):
        exact_shapley(big, MAX_EXACT + 1)
    with pytest.raises(InvalidInput):
        exact_shapley(Utility(lambda m: 0.0, 3), 4)
    with pytest.raises(InvalidInput):
        knn_shapley(x, y, x, y, k=0)
    with pytest.raises(InvalidInput):
        knn_shapley(x, y[:-1], x, y, k=1)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InvalidInput):
        knn_shapley(bad, y, x, y, k=1)
    with pytest.raises(InvalidInput):
        model_utility(bad, y, g, task="classification")
    with pytest.raises(InvalidInput):
        model_utility(x, y, g[:-1], task="classification")
    with pytest.raises(InvalidInput):
        model_utility(np.empty((0, 3)), [], [], task="classification")
    with pytest.raises(InvalidInput):
        model_utility(x, y, g, task="clustering")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        model_utility(x, y, g, task="regression", model="logistic")
    with pytest.raises(InvalidInput):
        model_utility(x, y, g, task="classification", players=[0, 1])  # groups 2, 3 unnamed
    with pytest.raises(InvalidInput):
        near_duplicates(x, g, priority=[0, 1])
    with pytest.raises(InvalidInput):
        monte_carlo_shapley(Utility(lambda m: 0.0, 3), 3, seed=1, tolerance=0)
    with pytest.raises(InvalidInput):
        Utility(lambda m: float("nan"), 2)(1)
    with pytest.raises(InvalidInput) as caught:
        exact_shapley(big, MAX_EXACT + 1)
    assert "Monte Carlo" in caught.value.message("en")
    assert "蒙特卡洛" in caught.value.message("zh-CN")
