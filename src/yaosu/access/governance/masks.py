"""Rule: masked columns cannot filter, join, group or order, nor be summed or averaged
(each would read the value the mask hides)."""

from __future__ import annotations

from sqlglot import exp

from yaosu.access.governance.model import Grant
from yaosu.access.governance.refusals import refuse
from yaosu.kernel.i18n import _


def _aliases(tree: exp.Expr, grants: dict[str, Grant]) -> dict[str, Grant]:
    return {t.alias_or_name: grants[t.name] for t in tree.find_all(exp.Table) if t.name in grants}


def check_masks(expression: exp.Expr, *, grants: dict[str, Grant]) -> exp.Expr:
    """Refuses a masked column anywhere but a plain output (on a qualified tree).

    >>> import sqlglot
    >>> grants = {"d": Grant("d", "s", {"a": "INT"}, frozenset({"a"}), masks={"a": "hash"})}
    >>> tree = sqlglot.parse_one("SELECT d.a FROM d AS d")
    >>> check_masks(tree, grants=grants) is tree
    True
    >>> check_masks(sqlglot.parse_one("SELECT 1 FROM d AS d ORDER BY d.a"), grants=grants)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryRefused: ...
    """
    tree = expression
    aliases = _aliases(tree, grants)
    clauses = [
        *tree.find_all(exp.Where),
        *tree.find_all(exp.Group),
        *tree.find_all(exp.Order),
        *tree.find_all(exp.Having),
    ]
    clauses += [j.args["on"] for j in tree.find_all(exp.Join) if j.args.get("on")]
    for total in tree.find_all(exp.Sum, exp.Avg):
        column = total.this
        grant = aliases.get(column.table) if isinstance(column, exp.Column) else None
        if grant is not None and column.name in grant.masks:
            raise refuse(
                _("the masked field {name} cannot be summed or averaged", name=column.name),
                column=column.name,
            )
    for clause in clauses:
        for column in clause.find_all(exp.Column):
            grant = aliases.get(column.table)
            if grant is not None and column.name in grant.masks:
                raise refuse(
                    _(
                        "the masked field {name} cannot be used to filter, join, group or order",
                        name=column.name,
                    ),
                    column=column.name,
                )
    return expression
