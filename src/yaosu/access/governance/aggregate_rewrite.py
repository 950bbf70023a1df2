"""Rewrite of a checked aggregate query: what the engine computes (exact per-group counts
and clamped sums, with the hidden row count for suppression), over the policy views."""

from __future__ import annotations

from sqlglot import exp

from yaosu.access.governance.aggregate_checks import group_keys
from yaosu.access.governance.model import Aggregate, Grant
from yaosu.access.governance.total import make_total
from yaosu.access.governance.view import replace_tables


def rewrite_aggregate(
    expression: exp.Expr,
    outputs: list[Aggregate],
    *,
    grants: dict[str, Grant],
    dp: bool,
    bounds: dict[str, tuple[float, float]],
    min_group_size: int | None,
) -> exp.Expr:
    """The query the engine runs for a checked aggregate query.

    >>> import sqlglot
    >>> grants = {"d": Grant("d", "src", {"town": "VARCHAR"}, frozenset({"town"}))}
    >>> tree = sqlglot.parse_one("SELECT d.town FROM d AS d GROUP BY d.town")
    >>> out = [Aggregate("town", "key", "town")]
    >>> rewrite_aggregate(tree, out, grants=grants, dp=True, bounds={}, min_group_size=None).sql("duckdb")
    'SELECT "d"."town" AS "k0", COUNT(*) AS "__n" FROM (SELECT "town" FROM "src") AS "d" GROUP BY "d"."town"'
    """
    tree = expression
    keys = group_keys(tree)
    # The engine computes exact per-group values: counts and (clamped) sums; averages are
    # released as noisy sum / noisy count, so the engine returns both parts.
    alias = tree.args["from_"].this.alias_or_name
    selects: list[exp.Expr] = [
        exp.column(k.name, table=alias, quoted=True).as_(f"k{i}", quoted=True)
        for i, k in enumerate(keys)
    ]
    for i, out in enumerate(outputs):
        if out.kind in ("sum", "avg"):
            value: exp.Expr = exp.column(str(out.column), table=alias, quoted=True)
            if out.column in bounds:
                lo, hi = bounds[str(out.column)]
                # Whole-number bounds stay integers, so an integer column is clamped and
                # summed in its own type (exact, and no per-row conversion); the sum is
                # converted once.
                low = exp.Literal.number(int(lo) if float(lo).is_integer() else lo)
                high = exp.Literal.number(int(hi) if float(hi).is_integer() else hi)
                if dp and out.kind == "avg":
                    # A private average is the middle plus a noisy centred sum over the noisy
                    # count of rows: a missing value counts as the middle, so that every row
                    # moves the centred sum by at most half the bounds' width.
                    middle = (lo + hi) / 2
                    mid = exp.Literal.number(int(middle) if middle.is_integer() else middle)
                    value = exp.func("coalesce", value, mid)
                value = exp.func("least", exp.func("greatest", value, low), high)
            selects.append(exp.cast(exp.Sum(this=value), "DOUBLE").as_(f"s{i}", quoted=True))
        if out.kind == "count" and out.column:
            selects.append(
                exp.Count(this=exp.column(out.column, table=alias, quoted=True)).as_(
                    f"c{i}", quoted=True
                )
            )
    selects.append(exp.Count(this=exp.Star()).as_("__n", quoted=True))
    inner = exp.select(*selects).from_(tree.args["from_"].this.copy())
    if tree.args.get("where"):
        # A negated field (-fee) overflows on the smallest integer: NULL instead of an error.
        inner.set("where", make_total(tree.args["where"].copy()))
    if keys:
        inner = inner.group_by(*[exp.column(k.name, table=alias, quoted=True) for k in keys])
    if not dp and min_group_size:
        inner = inner.having(
            exp.GTE(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(min_group_size))
        )
    rewritten = replace_tables(inner, grants, bound_units=True)
    return rewritten
