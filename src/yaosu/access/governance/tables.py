"""Rule: every table is a dataset the contract covers (no other database, no table
function), and no CTE takes a dataset's name."""

from __future__ import annotations

from sqlglot import exp

from yaosu.access.governance.model import Grant
from yaosu.access.governance.refusals import invalid, refuse
from yaosu.kernel.i18n import _


def check_tables(expression: exp.Expr, *, grants: dict[str, Grant]) -> exp.Expr:
    """Refuses a table the grants do not cover.

    >>> import sqlglot
    >>> grants = {"d": Grant("d", "s", {"a": "INT"}, frozenset({"a"}))}
    >>> check_tables(sqlglot.parse_one("SELECT a FROM e"), grants=grants)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryRefused: ...
    """
    ctes = {cte.alias_or_name.lower() for cte in expression.find_all(exp.CTE)}
    for name in ctes:
        if name in {g.lower() for g in grants} or name.startswith("ds_"):
            raise refuse(
                _("a CTE may not take the name of a dataset ({name})", name=name),
            )
    for table in expression.find_all(exp.Table):
        if table.args.get("db") or table.args.get("catalog"):
            raise refuse(_("{value} is not accessible", value=table.sql("duckdb")))
        if not isinstance(table.this, exp.Identifier):
            raise refuse(_("table functions are not allowed"))
        name = table.name
        if name.lower() in ctes:
            continue
        if name not in grants:
            raise refuse(
                _("the contract does not cover the dataset {name}", name=name),
                table=name,
            )
    return expression


def check_reads_dataset(
    expression: exp.Expr, *, grants: dict[str, Grant], aliases: dict[str, str] | None = None
) -> exp.Expr:
    """Refuses a query that reads no granted dataset (``SELECT 1``): there is nothing to
    govern it by. The refusal names the tables by the contract's aliases where it has them.

    >>> import sqlglot
    >>> grants = {"d": Grant("d", "s", {"a": "INT"}, frozenset({"a"}))}
    >>> check_reads_dataset(sqlglot.parse_one("SELECT 1"), grants=grants)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryInvalid: ...
    """
    if not tables_read(expression, grants):
        raise invalid(
            _(
                "the query reads no dataset: name a dataset the contract covers in FROM "
                "({datasets})",
                datasets=sorted(
                    {d: a for a, d in (aliases or {}).items() if d in grants}.get(g, g)
                    for g in grants
                ),
            ),
        )
    return expression


def tables_read(expression: exp.Expr, grants: dict[str, Grant]) -> list[str]:
    """The granted datasets a query reads, sorted."""
    return sorted({t.name for t in expression.find_all(exp.Table) if t.name in grants})
