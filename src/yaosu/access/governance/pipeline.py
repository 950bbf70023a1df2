"""Governed SQL: a consumer's query, parsed, checked and rewritten so that it can only see
what its contract grants. Pure functions over sqlglot trees; nothing here runs a query.

``RULES`` run in order, like sqlglot's optimizer: each takes the tree and the keyword
arguments it names (``grants``, ``aliases``, ``aggregates``, ``query``), and returns the tree
or raises the refusal. The first resolves the contract's aliases, so the rest see datasets. Then the tree is rewritten: row-level (``rows``) or aggregate
(``aggregate_checks`` then ``aggregate_rewrite``); each dataset becomes its policy view
(``view``), and the result is SQL text for the engine. Answers are remembered (``cache``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from yaosu.access.governance import cache
from yaosu.access.governance.aggregate_checks import (
    aggregate_outputs,
    check_aggregate_shape,
    group_keys,
)
from yaosu.access.governance.aggregate_rewrite import rewrite_aggregate
from yaosu.access.governance.aliases import resolve_aliases
from yaosu.access.governance.allowed import AGGREGATES, AGGREGATES_DP
from yaosu.access.governance.depth import MAX_DEPTH
from yaosu.access.governance.masks import check_masks
from yaosu.access.governance.model import Aggregate, Governed, Grant
from yaosu.access.governance.nodes import check_nodes
from yaosu.access.governance.order import released_order
from yaosu.access.governance.parse import parse
from yaosu.access.governance.qualify import qualify_granted
from yaosu.access.governance.refusals import invalid
from yaosu.access.governance.rows import rewrite_rows
from yaosu.access.governance.tables import check_reads_dataset, check_tables, tables_read
from yaosu.access.governance.typecheck import check_types
from yaosu.kernel.i18n import _

# The checks every query passes, in order (each refusal is the first that applies).
RULES: tuple[Callable[..., exp.Expr], ...] = (
    resolve_aliases,
    check_nodes,
    check_tables,
    qualify_granted,
    check_masks,
    check_reads_dataset,
    check_types,
)


def apply_rules(expression: exp.Expr, **context: Any) -> exp.Expr:
    """Runs ``RULES``, each with the keyword arguments it names (sqlglot's optimizer does the
    same).

    >>> grants = {"d": Grant("d", "s", {"a": "INT"}, frozenset({"a"}))}
    >>> apply_rules(parse("SELECT a FROM d"), grants=grants, aliases={}, aggregates=AGGREGATES, query="").sql("duckdb")
    'SELECT "d"."a" AS "a" FROM "d" AS "d"'
    >>> apply_rules(parse("SELECT a FROM t"), grants=grants, aliases={"t": "d"}, aggregates=AGGREGATES, query="").sql("duckdb")
    'SELECT "t"."a" AS "a" FROM "d" AS "t"'
    """
    for rule in RULES:
        params = inspect.signature(rule).parameters
        expression = rule(expression, **{p: context[p] for p in params if p in context})
    return expression


def govern(
    sql: str,
    grants: dict[str, Grant],
    *,
    aggregate_only: bool,
    dp: bool,
    bounds: dict[str, tuple[float, float]] | None = None,
    min_group_size: int | None = None,
    aliases: dict[str, str] | None = None,
) -> Governed:
    """Checks and rewrites ``sql`` under the grants; raises QueryRefused saying why not.
    ``aliases`` ({alias: dataset id}, the contract's) are names its datasets may be read by.

    The same query under the same grants is governed once and remembered (a consumer's
    dashboard repeats its queries); the random salt of contribution bounding is drawn afresh
    for every run."""
    key = cache.key(
        sql,
        grants,
        aggregate_only=aggregate_only,
        dp=dp,
        bounds=bounds,
        min_group_size=min_group_size,
        aliases=aliases,
    )
    found = cache.get(key)
    if found is None:
        try:
            found = _govern(
                sql,
                grants,
                aggregate_only=aggregate_only,
                dp=dp,
                bounds=bounds,
                min_group_size=min_group_size,
                aliases=aliases or {},
            )
        except RecursionError as exc:  # a backstop: the depth checks should come first
            raise invalid(
                _(
                    "the expression is nested too deeply ({MAX_DEPTH} levels at most); write simpler conditions",
                    MAX_DEPTH=MAX_DEPTH,
                ),
            ) from exc
        cache.remember(key, found)
    return cache.fresh(found)


def _govern(
    sql: str,
    grants: dict[str, Grant],
    *,
    aggregate_only: bool,
    dp: bool,
    bounds: dict[str, tuple[float, float]] | None = None,
    min_group_size: int | None = None,
    aliases: dict[str, str],
) -> Governed:
    tree = parse(sql)
    aggregates = AGGREGATES_DP if (aggregate_only or dp) else AGGREGATES
    tree = apply_rules(tree, grants=grants, aliases=aliases, aggregates=aggregates, query=sql)
    tables = tables_read(tree, grants)
    normalised = tree.sql("duckdb")
    if aggregate_only or dp:
        return _aggregate(
            tree,
            grants,
            normalised,
            tables,
            dp=dp,
            bounds=bounds or {},
            min_group_size=min_group_size,
        )
    rewritten = rewrite_rows(tree, grants=grants)
    outputs = [
        Aggregate(name=e.alias_or_name, kind="row") for e in getattr(tree, "expressions", [])
    ]
    return Governed(normalised, rewritten.sql("duckdb"), tables, False, outputs, [], None)


def _aggregate(
    tree: exp.Expr,
    grants: dict[str, Grant],
    normalised: str,
    tables: list[str],
    *,
    dp: bool,
    bounds: dict[str, tuple[float, float]],
    min_group_size: int | None,
) -> Governed:
    check_aggregate_shape(tree, tables=tables, dp=dp)
    outputs = aggregate_outputs(tree, grant=grants[tables[0]], dp=dp, bounds=bounds)
    rewritten = rewrite_aggregate(
        tree, outputs, grants=grants, dp=dp, bounds=bounds, min_group_size=min_group_size
    )
    order, limit, offset = released_order(tree, outputs)
    return Governed(
        normalised,
        rewritten.sql("duckdb"),
        tables,
        True,
        outputs,
        [k.name for k in group_keys(tree)],
        "__n",
        order=order,
        limit=limit,
        offset=offset,
    )
