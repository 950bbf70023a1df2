"""Valuing a product's contributors inside the platform: the product's sources are read where
they are stored, never returned; what is kept is each contributor's value and the evidence.

The product's sharing rule names the method and its parameters (``valuation``): the task
(``regression`` or ``classification``), the ``target`` column, the ``features``, the model
(``knn``, ``ridge``, ``logistic``), the metric, the validation fraction and the ``seed``.
Each source is one contributor's data (its holder's); several sources of one holder are one
group. Rows that copy a row of a source registered earlier (or an earlier row of the same
group) are valued once, for the first holder (``valuation.near_duplicates``): duplicating
data, one's own or another's, earns nothing. Numeric features are used as they are; a text
feature is one-hot encoded (a column per value, at most ``MAX_LEVELS`` values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import enforce
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.tasks.models import Task
from yaosu.kernel.tasks.queue import Run, handler
from yaosu.market import products, sharing, valuation
from yaosu.market.models import Product, Valuation
from yaosu.tasks import service as tasks

MAX_ROWS = 500_000  # rows one valuation reads, all sources together
MAX_LEVELS = 50  # values of a text feature one-hot encoded
METHODS = ("shapley", "leave_one_out", "knn", "volume")
PARAMS = {
    "task",
    "target",
    "features",
    "model",
    "metric",
    "k",
    "alpha",
    "validation_fraction",
    "seed",
    "tolerance",
    "max_permutations",
    "decimals",
}


def parameters(rule: Mapping[str, Any]) -> dict[str, Any]:
    """The valuation's parameters from a sharing rule, checked (every problem named)."""
    params = dict(rule.get("valuation") or {})
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise InvalidInput(problem=_("unknown valuation parameters: {keys}", keys=unknown))
    if params.get("task") not in ("regression", "classification"):
        raise InvalidInput(problem=_("the valuation's task is regression or classification"))
    target, features = params.get("target"), params.get("features")
    if not isinstance(target, str) or not target:
        raise InvalidInput(problem=_("name the target column the model predicts"))
    if (
        not isinstance(features, list)
        or not features
        or not all(isinstance(f, str) for f in features)
    ):
        raise InvalidInput(problem=_("name the feature columns the model learns from"))
    if target in features:
        raise InvalidInput(problem=_("the target cannot be a feature too"))
    seed = params.setdefault("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InvalidInput(problem=_("the seed is a whole number from 0 to 2^32 - 1"))
    return params


def _table(
    ctx: Context, session: Session, product: Product, columns: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """The sources' rows (those columns), each tagged with its holder; the holders in the
    order their sources were registered (the first holder of a copied row keeps it)."""
    holders = products.contributors_of(session, product_id=product.id)
    frames, order = [], []
    for src in products.sources_of(session, product_id=product.id):
        path = ctx.store.path(src.sha256)
        names = set(pq.read_schema(path).names)
        missing = [c for c in columns if c not in names]
        if missing:
            raise InvalidInput(
                problem=_(
                    "version {version} of dataset {dataset} has no column {columns}",
                    version=src.version,
                    dataset=src.dataset_id,
                    columns=missing,
                )
            )
        frame = pq.read_table(path, columns=columns).to_pandas()
        frame["__holder"] = holders[src.dataset_id]
        frames.append(frame)
        order.append(holders[src.dataset_id])
    table = pd.concat(frames, ignore_index=True)
    if len(table) > MAX_ROWS:
        raise InvalidInput(
            problem=_("more than {n} rows to value: name fewer sources", n=format(MAX_ROWS, ","))
        )
    return table, list(dict.fromkeys(order))


def _features(table: pd.DataFrame, features: list[str]) -> np.ndarray:
    parts = []
    for column in features:
        values = table[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            parts.append(values.astype("float64").to_frame())
            continue
        levels = values.astype("string").fillna("").unique()
        if len(levels) > MAX_LEVELS:
            raise InvalidInput(
                problem=_(
                    "{column} has more than {n} values: it cannot be a feature",
                    column=column,
                    n=MAX_LEVELS,
                )
            )
        parts.append(
            pd.get_dummies(values.astype("string").fillna(""), prefix=column, dtype="float64")
        )
    x = pd.concat(parts, axis=1).to_numpy(dtype=np.float64)
    if not np.isfinite(x).all():
        raise InvalidInput(problem=_("a feature has empty or infinite values: fill or drop them"))
    return x


def run_valuation(
    ctx: Context,
    actor: Actor,
    *,
    product_id: str,
    seed: int | None = None,
    recomputes: str | None = None,
) -> Valuation:
    """Values the product's contributors by its rule's method; ``seed`` overrides the rule's
    (a recomputation states the seed it was asked for). Stored with its evidence, audited."""
    with ctx.db.transaction() as session:
        product = products.get_product(session, actor, product_id=product_id)
        enforce(actor, "product.value", products.product_resource(session, product=product))
        rule = dict(product.sharing or {})
        method = rule.get("method")
        if method not in METHODS:
            raise InvalidInput(
                problem=_(
                    "this product's pool is split by {method}: nothing to compute",
                    method=str(method or "declared"),
                )
            )
        if method == "volume":
            params = _volume_parameters(ctx, session, product, rule)
            table, players = _table(ctx, session, product, params["features"])
        else:
            params = parameters(rule)
            if seed is not None:
                params["seed"] = seed
            table, players = _table(ctx, session, product, [*params["features"], params["target"]])
    if method == "volume":
        result, evidence = _originality(table, players, params=params)
    else:
        result, evidence = _compute(table, players, method=str(method), params=params)
    with ctx.db.transaction() as session:
        found = Valuation(
            id=new_id("val"),
            product_id=product_id,
            method=str(method),
            params=params,
            seed=int(params.get("seed", 0)),
            players=players,
            values={p: v for p, v in zip(players, result.values, strict=True)},
            evidence=evidence,
            recomputes_id=recomputes,
            created_by=actor.id,
        )
        session.add(found)
        session.flush()
        record(
            session,
            actor,
            action="product.value",
            object_type="product",
            object_id=product_id,
            object_org_id=sharing_seller(session, product_id=product_id),
            request={"method": method, "seed": params.get("seed")},
            detail={"valuation": found.id, "values": found.values},
        )
        session.expunge(found)
    return found


def submit(session: Session, actor: Actor, *, product_id: str) -> Task:
    """Queues the valuation of a product's contributors (it may train a model on every
    coalition of them: minutes, never inside a request). Refused at once, nothing queued,
    when the actor may not value the product or its rule has nothing to compute."""
    product = products.get_product(session, actor, product_id=product_id)
    enforce(actor, "product.value", products.product_resource(session, product=product))
    method = (product.sharing or {}).get("method")
    if method not in METHODS:
        raise InvalidInput(
            problem=_(
                "this product's pool is split by {method}: nothing to compute",
                method=str(method or "declared"),
            )
        )
    if method != "volume":
        parameters(dict(product.sharing))
    return tasks.enqueue(
        session,
        actor,
        kind="market.valuation",
        params={"product_id": product.id},
        object_type="product",
        object_id=product.id,
        object_org_id=product.seller_org_id,
    )


@handler("market.valuation")
def _valuation_job(ctx: Context, actor: Actor, params: dict[str, Any], run: Run) -> dict[str, Any]:
    run.progress(0.05)
    found = run_valuation(ctx, actor, product_id=str(params["product_id"]))
    return {"valuation": found.id, "method": found.method, "values": found.values}


def sharing_seller(session: Session, *, product_id: str) -> str | None:
    product = session.get(Product, product_id)
    return product.seller_org_id if product else None


def _volume_parameters(
    ctx: Context, session: Session, product: Product, rule: Mapping[str, Any]
) -> dict[str, Any]:
    """For a split by volume: the columns rows are compared on to find copies (the rule's
    ``valuation.features``, or every column all sources share)."""
    given = (rule.get("valuation") or {}).get("features")
    if given is not None:
        if not isinstance(given, list) or not given or not all(isinstance(f, str) for f in given):
            raise InvalidInput(problem=_("name the feature columns the model learns from"))
        return {"features": list(given)}
    shared: set[str] | None = None
    for src in products.sources_of(session, product_id=product.id):
        names = set(pq.read_schema(ctx.store.path(src.sha256)).names)
        shared = names if shared is None else shared & names
    if not shared:
        raise InvalidInput(problem=_("the sources share no column to compare their rows on"))
    return {"features": sorted(shared)}


def _originality(
    table: pd.DataFrame, players: list[str], *, params: dict[str, Any]
) -> tuple[valuation.Values, dict[str, Any]]:
    """The share of each holder's rows that copy no row of a holder registered earlier (nor
    an earlier row of its own): a split by volume counts only those. Text is compared
    exactly (as codes), numbers as near copies (``valuation.near_duplicates``)."""
    columns = []
    for column in params["features"]:
        values = table[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            columns.append(values.astype("float64").fillna(-1e300).to_numpy())
        else:
            columns.append(pd.factorize(values.astype("string").fillna(""))[0].astype("float64"))
    x = np.column_stack(columns)
    groups = table["__holder"].to_numpy()
    keep = valuation.near_duplicates(x, groups, priority=players, decimals=2)
    rows = {p: int((groups == p).sum()) for p in players}
    original = {p: int(((groups == p) & keep).sum()) for p in players}
    values = tuple(original[p] / rows[p] if rows[p] else 0.0 for p in players)
    result = valuation.Values(
        method="originality",
        values=values,
        stderr=None,
        evaluations=0,
        permutations=None,
        converged=None,
        seed=None,
        utilities={},
        parameters={"columns": list(params["features"])},
    )
    evidence = result.as_evidence() | {
        "players": players,
        "rows": rows,
        "original_rows": original,
        "copies_dropped": {p: rows[p] - original[p] for p in players if rows[p] > original[p]},
    }
    return result, evidence


def _compute(
    table: pd.DataFrame, players: list[str], *, method: str, params: dict[str, Any]
) -> tuple[valuation.Values, dict[str, Any]]:
    target = table[params["target"]]
    if params["task"] == "regression":
        if not pd.api.types.is_numeric_dtype(target):
            raise InvalidInput(problem=_("a regression's target must be a number column"))
        y = target.astype("float64").to_numpy()
        if not np.isfinite(y).all():
            raise InvalidInput(problem=_("the target has empty values: fill or drop them"))
    else:
        y = target.astype("string").fillna("").to_numpy()
    x = _features(table, list(params["features"]))
    groups = table["__holder"].to_numpy()
    keep = valuation.near_duplicates(
        x, groups, priority=players, decimals=int(params.get("decimals", 2))
    )
    dropped = {
        p: int(((groups == p) & ~keep).sum()) for p in players if ((groups == p) & ~keep).any()
    }
    x, y, groups = x[keep], y[keep], groups[keep]
    seed = int(params["seed"])
    if method == "knn":
        rng = np.random.default_rng(seed)
        test = rng.random(len(x)) < float(params.get("validation_fraction", 0.3))
        if test.all() or not test.any():
            raise InvalidInput(problem=_("too few rows to hold some out for validation"))
        points = valuation.knn_shapley(
            x[~test], y[~test], x[test], y[test], k=int(params.get("k", 5)), task=params["task"]
        )
        sums = valuation.group_values(points, groups[~test], players=players)
        result = valuation.Values(
            method="knn",
            values=sums,
            stderr=None,
            evaluations=0,
            permutations=None,
            converged=None,
            seed=seed,
            utilities={},
            parameters={"k": int(params.get("k", 5)), "points": int((~test).sum())},
        )
    else:
        utility = valuation.model_utility(
            x,
            y,
            groups,
            task=params["task"],
            model=str(params.get("model", "knn")),
            metric=params.get("metric"),
            k=int(params.get("k", 5)),
            alpha=float(params.get("alpha", 1.0)),
            validation_fraction=float(params.get("validation_fraction", 0.3)),
            seed=seed,
            players=players,
        )
        n = len(players)
        if method == "leave_one_out":
            result = valuation.leave_one_out(utility, n)
        elif n <= valuation.MAX_EXACT:
            result = valuation.exact_shapley(utility, n)
        else:
            result = valuation.monte_carlo_shapley(
                utility,
                n,
                seed=seed,
                tolerance=float(params.get("tolerance", 0.005)),
                max_permutations=int(params.get("max_permutations", 10_000)),
            )
    evidence = result.as_evidence() | {
        "players": players,
        "rows": len(x),
        "copies_dropped": dropped,
    }
    return result, evidence


def latest(session: Session, actor: Actor, *, product_id: str) -> Valuation | None:
    product = products.get_product(session, actor, product_id=product_id)
    return sharing.latest_valuation(
        session, product_id=product.id, method=str((product.sharing or {}).get("method"))
    )
