"""Rule (the first): a table named by one of the contract's aliases (``FROM 参保人员``) becomes
the dataset it names, so every later rule sees the real dataset.

Only the contract's own aliases of its own datasets resolve; a ``ds_…`` name is never an
alias (it is a dataset id or nothing); names compare without case, as DuckDB compares them.
The alias stays the table's alias in the query, so ``参保人员.所属乡镇`` still resolves. A CTE
may not take an alias's name: which table a name means would depend on where it is read.
"""

from __future__ import annotations

from sqlglot import exp

from yaosu.access.governance.model import Grant
from yaosu.access.governance.refusals import refuse
from yaosu.kernel.i18n import _


def resolve_aliases(
    expression: exp.Expr, *, grants: dict[str, Grant], aliases: dict[str, str]
) -> exp.Expr:
    """The query with each alias replaced by the dataset it names.

    >>> import sqlglot
    >>> grants = {"ds_a": Grant("ds_a", "s", {"x": "INT"}, frozenset({"x"}))}
    >>> resolve_aliases(sqlglot.parse_one("SELECT x FROM 人员"), grants=grants, aliases={"人员": "ds_a"}).sql("duckdb")
    'SELECT x FROM ds_a AS 人员'
    >>> resolve_aliases(sqlglot.parse_one("WITH 人员 AS (SELECT 1) SELECT * FROM 人员"), grants=grants, aliases={"人员": "ds_a"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryRefused: ...
    """
    known = {
        a.lower(): d for a, d in aliases.items() if d in grants and not a.lower().startswith("ds_")
    }
    if not known:
        return expression
    for cte in expression.find_all(exp.CTE):
        name = cte.alias_or_name
        if name.lower() in known:
            raise refuse(
                _(
                    "a CTE may not take the name {name}: the contract names a dataset so; choose another name for the CTE",
                    name=name,
                ),
            )
    tree = expression.copy()
    for table in tree.find_all(exp.Table):
        if table.args.get("db") or table.args.get("catalog"):
            continue  # another database: check_tables refuses it
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function: refused too
        dataset_id = known.get(table.name.lower())
        if dataset_id is None:
            continue
        if not table.alias:
            table.set("alias", exp.TableAlias(this=table.this.copy()))
        table.set("this", exp.to_identifier(dataset_id))
    return tree
