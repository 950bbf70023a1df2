"""Rule: qualify against the granted schema (stars expanded, every column resolved), so a
column the contract does not grant does not exist; say which, in words."""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify

from yaosu.access.governance.model import Grant
from yaosu.access.governance.refusals import refuse


def _schema(grants: dict[str, Grant]) -> dict[str, object]:
    return {name: dict(g.columns) for name, g in grants.items()}


def qualify_granted(expression: exp.Expr, *, grants: dict[str, Grant]) -> exp.Expr:
    """The query with every column resolved against what is granted.

    >>> import sqlglot
    >>> grants = {"d": Grant("d", "s", {"a": "INT"}, frozenset({"a", "b"}))}
    >>> qualify_granted(sqlglot.parse_one("SELECT * FROM d"), grants=grants).sql("duckdb")
    'SELECT "d"."a" AS "a" FROM "d" AS "d"'
    >>> qualify_granted(sqlglot.parse_one("SELECT b FROM d"), grants=grants)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryRefused: ...
    """
    tree = expression
    try:
        return qualify(
            tree,
            schema=_schema(grants),
            dialect="duckdb",
            validate_qualify_columns=True,
            quote_identifiers=True,
            expand_stars=True,
            identify=True,
        )
    except OptimizeError as exc:
        message = str(exc)
        for g in grants.values():
            for column in g.all_columns - set(g.columns):
                if column in message:
                    raise refuse(
                        f"授权协议不允许使用字段 {column}（允许：{'、'.join(g.columns)}）",
                        f"the contract does not grant the field {column} (it grants: {', '.join(g.columns)})",
                        column=column,
                    ) from exc
        fields = "、".join(sorted({c for g in grants.values() for c in g.columns}))
        fields_en = ", ".join(sorted({c for g in grants.values() for c in g.columns}))
        found = re.match(r"Column '(.+?)' could not be resolved(?: for table: '(.+?)')?", message)
        where = re.search(r"Line: (\d+), Col: (\d+)", message)
        at_zh = f"（第 {where[1]} 行第 {where[2]} 列）" if where else ""
        at_en = f" (line {where[1]}, column {where[2]})" if where else ""
        if found and found[2]:
            raise refuse(
                f"查询中没有名为 {found[2]} 的表或别名，无法找到字段 {found[1]}{at_zh}",
                f"there is no table or alias {found[2]} to take the field {found[1]} from{at_en}",
            ) from exc
        if found:
            raise refuse(
                f"没有字段 {found[1]}，或它在多张表中都有、须写明表名{at_zh}。可用字段：{fields}",
                f"there is no field {found[1]}, or more than one table has it and the table "
                f"must be named{at_en}. The fields are: {fields_en}",
                column=found[1],
            ) from exc
        raise refuse(
            f"查询引用了不存在的字段、表或输出列{at_zh}。可用字段：{fields}",
            f"the query refers to a field, table or output column that does not exist{at_en}. "
            f"The fields are: {fields_en}",
        ) from exc
