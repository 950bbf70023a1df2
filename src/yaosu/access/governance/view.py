"""The policy view: each dataset as the contract lets the consumer see it (granted columns,
masks applied, the row filter, one row per privacy unit). The row filter is applied here
and nowhere else; extracts read the same view."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from yaosu.access.governance.cache import SALT
from yaosu.access.governance.model import Grant, units_of


def policy_view(grant: Grant, *, bound_units: bool) -> exp.Select:
    """The dataset as the contract lets the consumer see it.

    >>> grant = Grant("d", "src", {"a": "INT"}, frozenset({"a"}), row_filter="a > 1")
    >>> policy_view(grant, bound_units=False).sql("duckdb")
    'SELECT "a" FROM "src" WHERE a > 1'
    """
    columns: list[exp.Expr] = []
    for name in grant.columns:
        col = exp.column(name, quoted=True)
        method = grant.masks.get(name)
        if method == "hash":
            # A keyed hash (the key is the dataset's secret, never shown): equal values stay
            # equal, so counting distinct values still works, but the value is gone.
            keyed = exp.DPipe(
                this=exp.Literal.string(grant.mask_key), expression=exp.cast(col, "VARCHAR")
            )
            columns.append(exp.func("sha256", keyed).as_(name, quoted=True))
        elif method == "mask":
            text = exp.cast(col, "VARCHAR")
            masked = exp.DPipe(
                this=exp.func("left", text, exp.Literal.number(1)),
                expression=exp.func(
                    "repeat",
                    exp.Literal.string("*"),
                    exp.func(
                        "greatest",
                        exp.Sub(this=exp.func("length", text), expression=exp.Literal.number(1)),
                        exp.Literal.number(0),
                    ),
                ),
            )
            columns.append(masked.as_(name, quoted=True))
        else:
            columns.append(col)
    view = exp.select(*columns).from_(exp.to_identifier(grant.source, quoted=True))
    if grant.row_filter:
        view = view.where(sqlglot.parse_one(grant.row_filter, read="duckdb"))
    units = units_of(grant)
    if bound_units and units:
        # Contribution bounding: one row per privacy unit, a different one at random for
        # every query (engines refuse a volatile window order, so the order is a hash of the
        # row under a fresh random salt).
        salt = exp.Literal.string(SALT)
        row = [exp.column(c, quoted=True) for c in sorted(grant.all_columns)]
        order = exp.Window(
            this=exp.RowNumber(),
            partition_by=[exp.column(u, quoted=True) for u in units],
            order=exp.Order(expressions=[exp.Ordered(this=exp.func("hash", salt, *row))]),
        )
        view = view.qualify(exp.LTE(this=order, expression=exp.Literal.number(1)))
    return view


def replace_tables(tree: exp.Expr, grants: dict[str, Grant], *, bound_units: bool) -> exp.Expr:
    """A copy of ``tree`` in which every granted dataset is its policy view.

    >>> import sqlglot
    >>> grants = {"d": Grant("d", "src", {"a": "INT"}, frozenset({"a"}))}
    >>> replace_tables(sqlglot.parse_one("SELECT a FROM d"), grants, bound_units=False).sql("duckdb")
    'SELECT a FROM (SELECT "a" FROM "src") AS "d"'
    """
    out = tree.copy()
    for table in list(out.find_all(exp.Table)):
        grant = grants.get(table.name)
        if grant is None:
            continue  # a CTE
        alias = table.alias_or_name
        table.replace(
            policy_view(grant, bound_units=bound_units).subquery(
                exp.to_identifier(alias, quoted=True)
            )
        )
    return out
