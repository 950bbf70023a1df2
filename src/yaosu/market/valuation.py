"""Contribution valuation: how much each contributor group's data is worth to a product.

Pure numerics (NumPy, scikit-learn for the one model that has no closed form); no database,
no HTTP. Settlement calls these, records the returned ``Values`` as evidence, and splits money
itself (rounding to the fen is settlement's, not ours).

A *game* is a ``Utility``: a score for every coalition of ``n`` players, a coalition being a
bitmask (bit ``i`` set = player ``i`` is in), cached, with its cache misses counted. Methods:

- ``exact_shapley``: the subset-weight formula over all ``2**n`` coalitions (``n <= 15``);
- ``monte_carlo_shapley``: antithetic permutation sampling, stopped on the standard error;
- ``leave_one_out``: ``u(N) - u(N \\ {i})``, the cheap baseline (``n + 1`` evaluations);
- ``knn_shapley``: exact Shapley values of single training points for a K-nearest-neighbour
  utility in ``O(N log N)`` per test point (Jia et al., VLDB 2019), summed per group with
  ``group_values``;
- ``near_duplicates``: the keep-mask that values every piece of data once, so copying another
  contributor's rows (or one's own) earns nothing.

``model_utility`` builds the usual utility: the validation score of a model trained on the
union of a coalition's rows. docs/valuation.md states every formula and rule.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _

__all__ = [
    "MAX_EXACT",
    "Utility",
    "Values",
    "exact_shapley",
    "group_values",
    "knn_shapley",
    "leave_one_out",
    "model_utility",
    "monte_carlo_shapley",
    "near_duplicates",
]

MAX_EXACT = 15  # 2**15 = 32,768 coalitions: still seconds for a cheap model, a minute for others
MEMORY = 256 * 2**20  # bytes knn_shapley holds at once: about eight float arrays per test row
Task = Literal["classification", "regression"]


def coalition_key(coalition: int) -> str:
    """How a coalition is written in the evidence: its bitmask, bit ``i`` = player ``i``.

    >>> coalition_key(0b1011)  # players 0, 1 and 3
    '0b1011'
    >>> coalition_key(0)
    '0b0'
    """
    return bin(coalition)


@dataclass(frozen=True)
class Values:
    """One valuation's result: a value per player, in player order, and how it was reached."""

    method: str  # "exact" | "monte_carlo" | "leave_one_out" | "knn"
    values: tuple[float, ...]
    stderr: tuple[float, ...] | None  # Monte Carlo only: the standard error of each value
    evaluations: int  # utility evaluations actually computed (cache misses)
    permutations: int | None  # Monte Carlo only
    converged: bool | None  # Monte Carlo only: the stop rule was met before the cap
    seed: int | None
    utilities: dict[str, float]  # coalition_key(mask) -> score; at least grand and empty
    parameters: dict[str, Any] = field(default_factory=dict)  # the method's settings

    def as_evidence(self) -> dict[str, Any]:
        """Everything above as JSON-able values, for a contributor's statement.

        Keys: ``method``, ``values`` (list, player order), ``stderr`` (list or null),
        ``evaluations``, ``permutations``, ``converged``, ``seed``, ``utilities`` (coalition
        bitmask string such as ``"0b1011"`` -> score), ``parameters`` (the method's settings,
        e.g. tolerance and permutation bounds), ``total`` (the sum of the values) and
        ``grand_minus_empty`` (``u(all) - u(empty)``, which the total equals for Shapley).
        """
        n = len(self.values)
        grand, empty = self.utilities.get(bin((1 << n) - 1)), self.utilities.get(bin(0))
        return {
            "method": self.method,
            "values": [float(v) for v in self.values],
            "stderr": None if self.stderr is None else [float(s) for s in self.stderr],
            "evaluations": int(self.evaluations),
            "permutations": self.permutations,
            "converged": self.converged,
            "seed": self.seed,
            "utilities": {k: float(v) for k, v in self.utilities.items()},
            "parameters": dict(self.parameters),
            "total": float(sum(self.values)),
            "grand_minus_empty": None if grand is None or empty is None else grand - empty,
        }


class Utility:
    """A cooperative game over ``n`` players, cached by coalition bitmask.

    ``score`` gets the boolean mask of the players in the coalition (length ``n``) and returns
    a float. ``evaluations`` counts the calls to ``score`` (cache misses).
    """

    def __init__(
        self,
        score: Callable[[np.ndarray], float],
        n: int,
        *,
        players: Sequence[Any] | None = None,
        description: dict[str, Any] | None = None,
    ) -> None:
        if n < 1:
            raise InvalidInput(problem=_("a valuation needs at least one contributor"))
        if players is not None and len(players) != n:
            raise InvalidInput(problem=_("there must be one player name per contributor"))
        self.score = score
        self.n = n
        self.players = tuple(players) if players is not None else tuple(range(n))
        self.description = dict(description or {})  # the model and metric, for the evidence
        self.cache: dict[int, float] = {}
        self.evaluations = 0
        self._bits = np.int64(1) << np.arange(n, dtype=np.int64) if n < 63 else None

    def mask(self, coalition: int) -> np.ndarray:
        if self._bits is not None:
            return (np.int64(coalition) & self._bits) != 0
        return np.array([(coalition >> i) & 1 == 1 for i in range(self.n)])

    def __call__(self, coalition: int) -> float:
        value = self.cache.get(coalition)
        if value is None:
            if not 0 <= coalition < 1 << self.n:
                raise InvalidInput(problem=_("a coalition names players that do not exist"))
            value = float(self.score(self.mask(coalition)))
            if not math.isfinite(value):
                raise InvalidInput(problem=_("the utility of a coalition is not a finite number"))
            self.cache[coalition] = value
            self.evaluations += 1
        return value


def _check_n(utility: Utility, n: int) -> None:
    if n != utility.n:
        raise InvalidInput(problem=_("the number of players differs from the utility's"))


def _popcount(masks: np.ndarray) -> np.ndarray:
    counts = np.zeros(masks.shape, dtype=np.int64)
    m = masks.copy()
    while m.any():
        counts += m & 1
        m >>= 1
    return counts


def exact_shapley(utility: Utility, n: int) -> Values:
    """Exact Shapley values by the subset-weight formula, from all ``2**n`` coalitions.

    ``phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (u(S + i) - u(S))``;
    each coalition is evaluated once (the cache), the sum is vectorised over coalitions.
    """
    _check_n(utility, n)
    if n > MAX_EXACT:
        raise InvalidInput(
            problem=_(
                "exact Shapley values are computed for at most {max} contributors ({n} given);"
                " use Monte Carlo",
                max=MAX_EXACT,
                n=n,
            )
        )
    before = utility.evaluations
    masks = np.arange(1 << n, dtype=np.int64)
    u = np.array([utility(int(m)) for m in masks])
    sizes = _popcount(masks)
    # w(s) = s! (n - s - 1)! / n!, i.e. 1 / (n * C(n - 1, s)), for s = 0 .. n - 1.
    weight = np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)])
    values = []
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        values.append(float(np.sum(weight[sizes[without]] * (u[without | (1 << i)] - u[without]))))
    return Values(
        method="exact",
        values=tuple(values),
        stderr=None,
        evaluations=utility.evaluations - before,
        permutations=None,
        converged=None,
        seed=None,
        utilities={coalition_key(int(m)): float(u[m]) for m in masks},
        parameters={"players": n, **utility.description},
    )


def monte_carlo_shapley(
    utility: Utility,
    n: int,
    *,
    seed: int,
    tolerance: float = 0.005,
    min_permutations: int = 100,
    max_permutations: int = 10_000,
    batch: int = 50,
) -> Values:
    """Shapley values estimated from random permutations, stopped on the standard error.

    Permutations come in antithetic pairs (a permutation and its reverse); one *sample* is the
    mean of the pair's marginal contributions, so samples are independent and each one sums
    exactly to ``u(all) - u(empty)`` (the estimate is efficient by construction). After
    ``min_permutations``, and then every ``batch`` permutations, the run stops when every
    player's standard error (sample standard deviation over the pairs / sqrt(pairs)) is at
    most ``tolerance``, in the utility's own units (``converged`` is then true), or when
    ``max_permutations`` is reached (``converged`` false). The same seed gives the same
    permutations, hence the same values.
    """
    _check_n(utility, n)
    if not tolerance > 0 or not math.isfinite(tolerance):
        raise InvalidInput(problem=_("the Monte Carlo tolerance must be a positive number"))
    if not 2 <= min_permutations <= max_permutations or batch < 2:
        raise InvalidInput(
            problem=_("Monte Carlo needs 2 <= min_permutations <= max_permutations and batch >= 2")
        )
    before = utility.evaluations
    rng = np.random.default_rng(seed)
    grand = (1 << n) - 1
    samples: list[np.ndarray] = []
    permutations = 0
    converged = False
    stderr = np.full(n, np.inf)

    def marginals(order: np.ndarray) -> np.ndarray:
        out = np.empty(n)
        coalition, previous = 0, utility(0)
        for player in order:
            coalition |= 1 << int(player)
            current = utility(coalition)
            out[player] = current - previous
            previous = current
        return out

    while permutations < max_permutations:
        pairs = min(batch, max_permutations - permutations) // 2 or 1
        orders = rng.permuted(np.tile(np.arange(n), (pairs, 1)), axis=1)
        for order in orders:
            samples.append((marginals(order) + marginals(order[::-1])) / 2)
        permutations += 2 * pairs
        if permutations >= min_permutations and len(samples) > 1:
            stack = np.asarray(samples)
            stderr = stack.std(axis=0, ddof=1) / math.sqrt(len(samples))
            if float(stderr.max()) <= tolerance:
                converged = True
                break
    values = np.asarray(samples).mean(axis=0)
    return Values(
        method="monte_carlo",
        values=tuple(float(v) for v in values),
        stderr=tuple(float(s) for s in stderr),
        evaluations=utility.evaluations - before,
        permutations=permutations,
        converged=converged,
        seed=seed,
        utilities={coalition_key(0): utility(0), coalition_key(grand): utility(grand)},
        parameters={
            "players": n,
            "tolerance": tolerance,
            "min_permutations": min_permutations,
            "max_permutations": max_permutations,
            "batch": batch,
            "antithetic": True,
            **utility.description,
        },
    )


def leave_one_out(utility: Utility, n: int) -> Values:
    """Each player's value is what the grand coalition loses without it: ``u(N) - u(N - i)``."""
    _check_n(utility, n)
    before = utility.evaluations
    grand = (1 << n) - 1
    full = utility(grand)
    values, scores = [], {coalition_key(grand): full, coalition_key(0): utility(0)}
    for i in range(n):
        rest = grand & ~(1 << i)
        scores[coalition_key(rest)] = utility(rest)
        values.append(full - scores[coalition_key(rest)])
    return Values(
        method="leave_one_out",
        values=tuple(values),
        stderr=None,
        evaluations=utility.evaluations - before,
        permutations=None,
        converged=None,
        seed=None,
        utilities=scores,
        parameters={"players": n, **utility.description},
    )


# --- model utilities -------------------------------------------------------------------------


def _features(x: Any) -> np.ndarray:
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(problem=_("the features are not numbers")) from exc
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise InvalidInput(problem=_("the data to value is empty"))
    if not np.isfinite(array).all():
        raise InvalidInput(problem=_("the features hold NaN or infinite values"))
    return array


def _labels(y: Any, rows: int, task: str) -> np.ndarray:
    array = np.asarray(y)
    if array.ndim != 1 or len(array) != rows:
        raise InvalidInput(problem=_("there must be one label per row"))
    if task == "regression":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(problem=_("regression targets must be numbers")) from exc
        if not np.isfinite(array).all():
            raise InvalidInput(problem=_("the targets hold NaN or infinite values"))
    elif task != "classification":
        raise InvalidInput(problem=_("the task is classification or regression"))
    return array


def _sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, summed per coordinate (not the Gram shortcut, so the
    neighbour order is the one a reference implementation computes), in bounded chunks."""
    out = np.empty((len(a), len(b)))
    step = max(1, MEMORY // (8 * max(1, len(b) * a.shape[1])))
    for start in range(0, len(a), step):
        diff = a[start : start + step, None, :] - b[None, :, :]
        out[start : start + step] = np.einsum("ijk,ijk->ij", diff, diff)
    return out


METRICS = {"classification": ("accuracy",), "regression": ("r2", "neg_mean_squared_error")}
MODELS = {"classification": ("knn", "ridge", "logistic"), "regression": ("knn", "ridge")}


def model_utility(
    x: Any,
    y: Any,
    groups: Any,
    *,
    task: Task,
    model: str = "knn",
    metric: str | None = None,
    k: int = 5,
    alpha: float = 1.0,
    validation: tuple[Any, Any] | None = None,
    validation_fraction: float = 0.3,
    seed: int = 0,
    players: Sequence[Any] | None = None,
    baseline: float | None = None,
) -> Utility:
    """The utility of a coalition: the validation score of ``model`` trained on the union of
    the coalition's groups' rows.

    Models: ``knn`` (k nearest neighbours, Euclidean, majority vote with ties to the smallest
    label, or the neighbours' mean; the validation-to-training distances are computed once),
    ``ridge`` (closed form from per-group sums of ``X'X`` and ``X'y``, centred as with an
    intercept; for classification, one-vs-rest on +-1 targets and the largest score wins, as
    scikit-learn's ``RidgeClassifier``), ``logistic`` (scikit-learn's ``LogisticRegression``,
    refitted per coalition). Metrics: ``accuracy``; ``r2`` (default for regression) or
    ``neg_mean_squared_error``.

    Validation: ``validation=(x_val, y_val)``, or else ``validation_fraction`` of the rows
    drawn at random with ``seed`` (those rows then train nobody).

    Baseline: the empty coalition, and a coalition that cannot train the model (classification:
    fewer than two classes among its rows; knn: fewer than ``k`` rows; logistic: fewer than 2)
    score ``baseline``; by default chance (``1 / classes``) for accuracy, 0 for r2 (the
    validation mean's score) and minus the validation targets' variance for mean squared error.
    """
    if task not in METRICS:
        raise InvalidInput(problem=_("the task is classification or regression"))
    metric = metric or METRICS[task][0]
    if metric not in METRICS[task]:
        raise InvalidInput(problem=_("metric {metric} does not fit this task", metric=metric))
    if model not in MODELS[task]:
        raise InvalidInput(problem=_("model {model} does not fit this task", model=model))
    if k < 1:
        raise InvalidInput(problem=_("k, the number of neighbours, must be at least 1"))
    if not alpha > 0:
        raise InvalidInput(problem=_("the ridge penalty must be positive"))
    xs = _features(x)
    ys = _labels(y, len(xs), task)
    gs = np.asarray(groups)
    if gs.ndim != 1 or len(gs) != len(xs):
        raise InvalidInput(problem=_("there must be one group per row"))
    names = tuple(players) if players is not None else tuple(np.unique(gs).tolist())
    if len(set(names)) != len(names):
        raise InvalidInput(problem=_("a contributor is named twice"))
    if not np.isin(gs, np.asarray(names, dtype=gs.dtype)).all():
        raise InvalidInput(problem=_("a row belongs to a group that is not a player"))
    if validation is not None:
        x_val = _features(validation[0])
        y_val = _labels(validation[1], len(x_val), task)
        if x_val.shape[1] != xs.shape[1]:
            raise InvalidInput(problem=_("validation rows have another number of columns"))
    else:
        if not 0 < validation_fraction < 1:
            raise InvalidInput(problem=_("the validation fraction is between 0 and 1"))
        order = np.random.default_rng(seed).permutation(len(xs))
        cut = round(validation_fraction * len(xs))
        if cut < 1 or cut >= len(xs):
            raise InvalidInput(problem=_("too few rows to set some aside for validation"))
        val, train = order[:cut], np.sort(order[cut:])
        x_val, y_val, xs, ys, gs = xs[val], ys[val], xs[train], ys[train], gs[train]
    index = {name: i for i, name in enumerate(names)}
    player_of = np.fromiter((index[g] for g in gs.tolist()), dtype=np.int64, count=len(gs))

    if task == "classification":
        classes = np.unique(np.concatenate([ys, y_val]))
        y_code, val_code = np.searchsorted(classes, ys), np.searchsorted(classes, y_val)
        default = 1.0 / len(classes)
    else:
        classes = np.empty(0)
        y_code = val_code = np.empty(0, dtype=np.int64)
        default = 0.0 if metric == "r2" else -float(np.var(y_val))
    floor = float(default if baseline is None else baseline)
    var_val = float(np.var(y_val)) if task == "regression" else 0.0
    description: dict[str, Any] = {
        "task": task,
        "model": model,
        "metric": metric,
        "baseline": floor,
        "training_rows": len(xs),
        "validation_rows": len(x_val),
        "validation": "given" if validation is not None else "split",
    }
    if validation is None:
        description |= {"validation_fraction": validation_fraction, "split_seed": seed}
    description |= {"k": k} if model == "knn" else {"alpha": alpha} if model == "ridge" else {}

    def scored(prediction: np.ndarray) -> float:
        if task == "classification":
            return float(np.mean(prediction == val_code))
        mse = float(np.mean((prediction - y_val) ** 2))
        if metric == "r2":
            return 1.0 - mse / var_val if var_val > 0 else 0.0
        return -mse

    rows_of = np.bincount(player_of, minlength=len(names))
    if task == "classification":  # which classes each player's rows hold
        holds = np.zeros((len(names), len(classes)), dtype=bool)
        holds[player_of, y_code] = True

    def trainable(in_players: np.ndarray, least: int) -> bool:
        if rows_of[in_players].sum() < max(least, 1):
            return False
        return task == "regression" or int(holds[in_players].any(axis=0).sum()) >= 2

    if model == "knn":
        # Each player's own k nearest rows per validation point (distance, label): a
        # coalition's k nearest are the k nearest of its members' lists, so a coalition
        # ranks at most k x players candidates instead of all its rows.
        dist = _sq_distances(x_val, xs)
        near_d = np.full((len(x_val), len(names), k), np.inf)
        near_y = np.zeros(
            (len(x_val), len(names), k), dtype=np.int64 if task != "regression" else np.float64
        )
        label = y_code if task == "classification" else ys
        for p in range(len(names)):
            cols = np.flatnonzero(player_of == p)
            if not len(cols):
                continue
            d_p = dist[:, cols]
            take = min(k, len(cols))
            pick = (
                np.argpartition(d_p, take - 1, axis=1)[:, :take]
                if take < len(cols)
                else (np.broadcast_to(np.arange(len(cols)), d_p.shape))
            )
            near_d[:, p, :take] = np.take_along_axis(d_p, pick, axis=1)
            near_y[:, p, :take] = label[cols[pick]]

        def fit_predict(in_players: np.ndarray) -> float:
            if not trainable(in_players, k):
                return floor
            members = np.flatnonzero(in_players)
            cand_d = near_d[:, members].reshape(len(x_val), -1)
            cand_y = near_y[:, members].reshape(len(x_val), -1)
            pick = np.argpartition(cand_d, k - 1, axis=1)[:, :k]
            chosen = np.take_along_axis(cand_y, pick, axis=1)
            if task == "regression":
                return scored(chosen.mean(axis=1))
            votes = (chosen[:, :, None] == np.arange(len(classes))).sum(axis=1)
            return scored(votes.argmax(axis=1))

    elif model == "ridge":
        d = xs.shape[1]
        if task == "classification":
            if len(classes) == 2:
                targets = np.where(y_code == 1, 1.0, -1.0)[:, None]
            else:
                targets = np.where(y_code[:, None] == np.arange(len(classes)), 1.0, -1.0)
        else:
            targets = ys[:, None]
        # Per-player sums: rows, sum x, sum t, X'X, X't. A coalition's are the sums of these.
        n_p = np.bincount(player_of, minlength=len(names)).astype(np.float64)
        sx = np.zeros((len(names), d))
        st = np.zeros((len(names), targets.shape[1]))
        xx = np.zeros((len(names), d, d))
        xt = np.zeros((len(names), d, targets.shape[1]))
        for p in range(len(names)):
            rows_p = player_of == p
            xp, tp = xs[rows_p], targets[rows_p]
            sx[p], st[p], xx[p], xt[p] = xp.sum(0), tp.sum(0), xp.T @ xp, xp.T @ tp
        eye = alpha * np.eye(d)

        def fit_predict_players(in_players: np.ndarray) -> float:
            count = n_p[in_players].sum()
            if not trainable(in_players, 1):
                return floor
            mx, mt = sx[in_players].sum(0) / count, st[in_players].sum(0) / count
            gram = xx[in_players].sum(0) - count * np.outer(mx, mx)
            cross = xt[in_players].sum(0) - count * np.outer(mx, mt)
            w = np.linalg.solve(gram + eye, cross)
            out = (x_val - mx) @ w + mt
            if task == "regression":
                return scored(out[:, 0])
            return scored((out[:, 0] > 0).astype(np.int64) if out.shape[1] == 1 else out.argmax(1))

        return Utility(fit_predict_players, len(names), players=names, description=description)

    else:  # logistic
        from sklearn.linear_model import LogisticRegression

        def fit_predict(in_players: np.ndarray) -> float:
            if not trainable(in_players, 2):
                return floor
            rows = in_players[player_of]
            fitted = LogisticRegression(max_iter=1000).fit(xs[rows], y_code[rows])
            return scored(fitted.predict(x_val))

    return Utility(fit_predict, len(names), players=names, description=description)


# --- KNN-Shapley -----------------------------------------------------------------------------


def knn_shapley(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    *,
    k: int,
    task: Task = "classification",
) -> np.ndarray:
    """Exact Shapley values of each training point for the K-nearest-neighbour utility,
    averaged over the test points (Jia et al., "Efficient task-specific data valuation for
    nearest neighbor algorithms", VLDB 2019).

    Per test point, training points sorted by distance (``1`` nearest, ``N`` farthest; ties in
    the sort's order). Classification, utility ``(1/K) * sum over the min(K, |S|) nearest of S
    of [y_j == y_test]``: ``s_N = [y_N == y] / max(N, K)``, ``s_i = s_{i+1} + ([y_i == y] - [y_{i+1} ==
    y]) / K * min(K, i) / i``. Regression, utility ``-((1/K) * sum of those y_j - y_test)**2``:
    the closed form in docs/valuation.md. Memory is bounded by ranking a chunk of test points
    at a time (``MEMORY`` bytes of distances).
    """
    if k < 1:
        raise InvalidInput(problem=_("k, the number of neighbours, must be at least 1"))
    xtr, xte = _features(x_train), _features(x_test)
    if xtr.shape[1] != xte.shape[1]:
        raise InvalidInput(problem=_("test rows have another number of columns"))
    ytr, yte = _labels(y_train, len(xtr), task), _labels(y_test, len(xte), task)
    n = len(xtr)
    positions = np.arange(1, n + 1, dtype=np.float64)  # 1-based rank i
    if task == "classification":
        step = 1.0 / np.maximum(k, positions[:-1])  # min(K, i) / (K i) for i = 1 .. N-1
        far_first = step[::-1].copy()  # the same for i = N-1 .. 1
    else:
        q = np.minimum(k - 1, positions)  # g(x) = Q(Q+1) / (2 x (x+1)), Q = min(K-1, x)
        g = q * (q + 1) / (2 * positions * (positions + 1))  # g[x-1] for x = 1 .. N
        share = np.minimum(k, positions) / positions  # P(fewer than K of S before i)
        z_train = ytr / k
    norms = np.einsum("ij,ij->i", xtr, xtr)

    def chunk_values(block: np.ndarray, targets: np.ndarray) -> np.ndarray:
        # Ordering only needs |x|^2 - 2 x.t (the test point's own norm is a constant per row).
        key = norms[None, :] - 2.0 * (block @ xtr.T)
        if task == "classification":
            # Farthest first, so the recursion from s_N is a forward cumulative sum in place.
            order = np.argsort(-key, axis=1)
            hit = (ytr[order] == targets[:, None]).view(np.int8)
            values = np.empty((len(block), n))
            values[:, 0] = hit[:, 0] / max(n, k)  # the paper assumes N >= K: 1/N there
            np.subtract(hit[:, 1:], hit[:, :-1], out=values[:, 1:], dtype=np.float64)
            values[:, 1:] *= far_first
            np.cumsum(values, axis=1, out=values)
            return np.bincount(order.ravel(), weights=values.ravel(), minlength=n)
        order = np.argsort(key, axis=1)
        t = targets[:, None]
        z = z_train[order]
        before = np.cumsum(z, axis=1) - z  # sum of z_j over j < i
        # sum over p >= i + 2 of g(p - 2) z_p, for i = 1 .. N-1
        weighted = g[: n - 2] * z[:, 2:] if n > 2 else np.zeros((len(block), 0))
        after = np.zeros((len(block), n - 1))
        if n > 2:
            after[:, : n - 2] = np.cumsum(weighted[:, ::-1], axis=1)[:, ::-1]
        gb = np.concatenate([[0.0], g[: n - 2]]) if n > 1 else np.zeros(0)  # g(i - 1)
        zi, zn = z[:, :-1], z[:, 1:]
        diffs = (zn - zi) * (2 * (gb * before[:, :-1] + after) + (zi + zn - 2 * t) * share[:-1])
        zl = z[:, -1:]
        last = (
            -zl * (2 * g[n - 2] * before[:, -1:] + (zl - 2 * t) * share[-1])
            if n > 1
            else (-zl * (zl - 2 * t) * share[-1])
        )
        values = np.empty((len(block), n))
        values[:, -1:] = last
        values[:, :-1] = last + np.cumsum(diffs[:, ::-1], axis=1)[:, ::-1]
        return np.bincount(order.ravel(), weights=values.ravel(), minlength=n)

    # Two chunks at a time: NumPy's sorts and loops release the GIL, so threads use both cores.
    workers = max(1, min(2, os.cpu_count() or 1))
    chunk = max(1, min(len(xte), MEMORY // (64 * n * workers)))
    starts = range(0, len(xte), chunk)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(lambda a: chunk_values(xte[a : a + chunk], yte[a : a + chunk]), starts)
        total = np.sum(list(parts), axis=0)  # in chunk order: the same sum on every run
    return total / len(xte)


def group_values(
    point_values: np.ndarray, groups: Any, *, players: Sequence[Any]
) -> tuple[float, ...]:
    """Sum point values per group, in ``players`` order (a player with no rows gets 0)."""
    pv = np.asarray(point_values, dtype=np.float64)
    gs = np.asarray(groups)
    if pv.ndim != 1 or gs.shape != pv.shape:
        raise InvalidInput(problem=_("there must be one group per row"))
    index = {name: i for i, name in enumerate(players)}
    if len(index) != len(players):
        raise InvalidInput(problem=_("a contributor is named twice"))
    try:
        which = np.fromiter((index[g] for g in gs.tolist()), dtype=np.int64, count=len(gs))
    except KeyError as exc:
        raise InvalidInput(problem=_("a row belongs to a group that is not a player")) from exc
    sums = np.bincount(which, weights=pv, minlength=len(players))
    return tuple(float(v) for v in sums)


# --- copies ----------------------------------------------------------------------------------


def near_duplicates(
    x: Any, groups: Any, *, priority: Sequence[Any], decimals: int = 2
) -> np.ndarray:
    """The rows to value: ``False`` for a row that copies an earlier one.

    Columns are standardised (mean 0, standard deviation 1 over all rows; a constant column
    becomes 0). Two rows are copies when every standardised column differs by at most
    ``10**-decimals`` (Chebyshev distance; exact copies always are). Rows are ranked by their
    group's place in ``priority`` (the earlier registration first), then by row order; a row
    is dropped when it copies any row ranked before it, so the first holder keeps it. A KD-tree
    finds the pairs after exact copies are collapsed.
    """
    xs = _features(x)
    gs = np.asarray(groups)
    if gs.ndim != 1 or len(gs) != len(xs):
        raise InvalidInput(problem=_("there must be one group per row"))
    if decimals < 0 or decimals > 12:
        raise InvalidInput(problem=_("decimals is between 0 and 12"))
    place = {name: i for i, name in enumerate(priority)}
    try:
        rank_of_group = np.fromiter((place[g] for g in gs.tolist()), np.int64, count=len(gs))
    except KeyError as exc:
        raise InvalidInput(
            problem=_("a row belongs to a group that is not in the priority")
        ) from exc
    scale = xs.std(axis=0)
    z = (xs - xs.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    order = np.lexsort((np.arange(len(xs)), rank_of_group))  # the ranking, first to last
    ranked = z[order]
    # Exact copies first (a cluster of m identical rows would be m^2 / 2 tree pairs).
    first = np.unique(ranked, axis=0, return_index=True)[1]
    keep_ranked = np.zeros(len(xs), dtype=bool)
    keep_ranked[first] = True
    from scipy.spatial import cKDTree

    survivors = np.flatnonzero(keep_ranked)  # ranked positions, ascending
    tree = cKDTree(ranked[survivors])
    pairs = tree.query_pairs(r=10.0**-decimals, p=np.inf, output_type="ndarray")
    if len(pairs):
        later = survivors[pairs.max(axis=1)]  # the pair's later-ranked row copies the earlier
        keep_ranked[later] = False
    keep = np.empty(len(xs), dtype=bool)
    keep[order] = keep_ranked
    return keep
