"""Rules of aggregate-only and differentially private queries (checks only; the rewrite is
``aggregate_rewrite``). They accept one shape: a single dataset, a WHERE that compares
fields with constants, GROUP BY plain fields, and COUNT/SUM/AVG; the results are made safe
afterwards (group suppression or DP)."""

from __future__ import annotations

from sqlglot import exp

from yaosu.access.governance.allowed import AGGREGATES_DP, WHERE_AGGREGATE
from yaosu.access.governance.model import Aggregate, Grant
from yaosu.access.governance.refusals import refuse
from yaosu.access.governance.words import describe
from yaosu.kernel.i18n import Message, _


def _why(dp: bool) -> Message:
    """Who asks for the shape, in words."""
    return _("an aggregate-only contract") if not dp else _("a differentially private query")


def group_keys(tree: exp.Expr) -> list[exp.Expr]:
    group = tree.args.get("group")
    return [e for e in (group.expressions if group else [])]


def check_aggregate_shape(expression: exp.Expr, *, tables: list[str], dp: bool) -> exp.Expr:
    """Refuses what an aggregate-only query may not hold: set operations, subqueries, joins,
    computing filters, HAVING, DISTINCT, grouping by anything but a field.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT town, COUNT(*) FROM d GROUP BY town")
    >>> check_aggregate_shape(tree, tables=["d"], dp=False) is tree
    True
    >>> check_aggregate_shape(sqlglot.parse_one("SELECT COUNT(*) FROM d HAVING COUNT(*) > 1"), tables=["d"], dp=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryRefused: ...
    """
    tree = expression
    why = _why(dp)
    if not isinstance(tree, exp.Select):
        raise refuse(_("{why} allows no set operations", why=why))
    if any(tree.find_all(exp.CTE)) or any(tree.find_all(exp.Subquery)):
        raise refuse(_("{why} allows no subqueries or CTEs", why=why))
    if list(tree.find_all(exp.Join)) or len(tables) != 1:
        raise refuse(_("{why} reads one dataset, without joins", why=why))
    where = tree.args.get("where")
    if where is not None:
        for node in where.walk():
            if not isinstance(node, WHERE_AGGREGATE):
                raise refuse(
                    _(
                        "{why} filters by comparing fields with constants only (=, <>, <, >, "
                        "BETWEEN, IN, LIKE, IS NULL, joined by AND, OR, NOT), not with {what}",
                        why=why,
                        what=describe(node),
                    ),
                )
    if tree.args.get("having") or tree.args.get("distinct"):
        raise refuse(
            _("{why} allows no HAVING or DISTINCT (groups are filtered by the platform)", why=why),
        )
    for key in group_keys(tree):
        if not isinstance(key, exp.Column):
            raise refuse(_("group by plain fields only"))
    return expression


def aggregate_outputs(
    expression: exp.Expr, *, grant: Grant, dp: bool, bounds: dict[str, tuple[float, float]]
) -> list[Aggregate]:
    """What each output column is; refuses an output that is neither a grouping field nor
    COUNT, SUM or AVG of a plain field (with bounds under DP).

    >>> import sqlglot
    >>> grant = Grant("d", "s", {"town": "VARCHAR"}, frozenset({"town"}))
    >>> tree = sqlglot.parse_one("SELECT town, COUNT(*) AS n FROM d GROUP BY town")
    >>> [o.kind for o in aggregate_outputs(tree, grant=grant, dp=False, bounds={})]
    ['key', 'count']
    """
    tree = expression
    key_names = {k.name for k in group_keys(tree)}
    outputs: list[Aggregate] = []
    for projection in tree.expressions:
        inner = projection.unalias()
        name = projection.alias_or_name
        if isinstance(inner, exp.Column):
            if inner.name not in key_names:
                raise refuse(
                    _(
                        "the output must be aggregates or grouping fields: {name} is neither",
                        name=inner.name,
                    ),
                    column=inner.name,
                )
            outputs.append(Aggregate(name, "key", inner.name))
            continue
        if not isinstance(inner, AGGREGATES_DP):
            raise refuse(
                _(
                    "the output must be COUNT, SUM, AVG or grouping fields: {value}",
                    value=projection.sql("duckdb"),
                ),
            )
        arg = inner.this
        if isinstance(arg, exp.Distinct):
            raise refuse(_("COUNT(DISTINCT …) is not allowed"))
        if isinstance(inner, exp.Count):
            outputs.append(
                Aggregate(name, "count", arg.name if isinstance(arg, exp.Column) else None)
            )
            continue
        if not isinstance(arg, exp.Column):
            raise refuse(_("SUM and AVG take a plain field"))
        if arg.name in grant.masks:
            raise refuse(
                _("the masked field {name} cannot be summed or averaged", name=arg.name),
            )
        if dp and arg.name not in bounds:
            raise refuse(
                _("a private sum or average needs bounds for {name}", name=arg.name),
                column=arg.name,
            )
        outputs.append(Aggregate(name, "sum" if isinstance(inner, exp.Sum) else "avg", arg.name))
    return outputs
