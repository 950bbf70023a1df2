"""Arithmetic and scalar functions can still fail on a value (integer overflow, ``x // 0``,
``abs`` of the smallest integer): each one is wrapped in ``TRY`` so the engine answers NULL
instead of failing (Spark runs with ANSI mode off, where these answer NULL or wrap
already)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from yaosu.access.governance.typecheck import ARITHMETIC

# Scalar functions that can fail on a value in DuckDB and are made total with TRY.
_FALLIBLE = (
    *ARITHMETIC,
    exp.Neg,
    exp.Abs,
    exp.Round,
    exp.Floor,
    exp.Ceil,
    exp.Substring,
    exp.Left,
    exp.Right,
    exp.DateTrunc,
    exp.Extract,
    exp.Year,
    exp.Month,
    exp.Day,
)


def _fallible(tree: exp.Expr) -> Iterator[exp.Expr]:
    for node in tree.walk():
        if isinstance(node, _FALLIBLE) and not isinstance(node.parent, exp.Try):
            yield node


def make_total(tree: exp.Expr) -> exp.Expr:
    """Wraps every computation that can fail on a value in TRY (NULL instead of an error).

    >>> import sqlglot
    >>> make_total(sqlglot.parse_one("SELECT a * 2 FROM t")).sql("duckdb")
    'SELECT TRY(a * 2) FROM t'
    """
    # Deepest first (a breadth-first walk, reversed), each node moved into its wrapper.
    for node in reversed(list(_fallible(tree))):
        wrapper = exp.Try()
        node.replace(wrapper)
        wrapper.set("this", node)
    return tree
