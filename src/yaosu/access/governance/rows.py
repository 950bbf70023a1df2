"""Rewrite of a row-level query: computations made total, datasets replaced by their policy
views, and the answer capped at ``ROW_LIMIT`` rows."""

from __future__ import annotations

from sqlglot import exp

from yaosu.access.governance.model import ROW_LIMIT, Grant
from yaosu.access.governance.total import make_total
from yaosu.access.governance.view import replace_tables


def rewrite_rows(expression: exp.Expr, *, grants: dict[str, Grant]) -> exp.Expr:
    """What runs for a row-level query.

    >>> import sqlglot
    >>> grants = {"d": Grant("d", "src", {"a": "INT"}, frozenset({"a"}))}
    >>> rewrite_rows(sqlglot.parse_one("SELECT a FROM d LIMIT 5"), grants=grants).sql("duckdb")
    'SELECT a FROM (SELECT "a" FROM "src") AS "d" LIMIT 5'
    """
    tree = expression
    # Rows may be read, but a computation that fails on a hidden value (a filtered-out row the
    # engine evaluates first) would still reveal it: every such computation answers NULL.
    rewritten = replace_tables(make_total(tree.copy()), grants, bound_units=False)
    # Whatever LIMIT the user wrote, no answer holds more than ROW_LIMIT rows. The cap goes
    # on the query itself where it can, so its ORDER BY still orders the answer (an outer
    # SELECT over an ordered subquery need not keep the order, and Spark does not).
    limit = rewritten.args.get("limit")
    written = limit.args.get("expression") if isinstance(limit, exp.Limit) else None
    if isinstance(rewritten, exp.Select) and (
        limit is None
        or (isinstance(written, exp.Literal) and not written.is_string and written.this.isdigit())
    ):
        cap = ROW_LIMIT if written is None else min(ROW_LIMIT, int(written.this))
        rewritten = rewritten.limit(cap)
    else:
        rewritten = (
            exp.select("*")
            .from_(
                exp.Subquery(this=rewritten, alias=exp.TableAlias(this=exp.to_identifier("__q")))
            )
            .limit(ROW_LIMIT)
        )
    return rewritten
