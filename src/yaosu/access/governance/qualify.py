"""Rule: qualify against the granted schema (stars expanded, every column resolved), so a
column the contract does not grant does not exist; say which, in words."""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify

from yaosu.access.governance.model import Grant
from yaosu.access.governance.refusals import refuse
from yaosu.kernel.i18n import _


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
                        _(
                            "the contract does not grant the field {column} (it grants: {granted})",
                            column=column,
                            granted=list(g.columns),
                        ),
                        column=column,
                    ) from exc
        fields = sorted({c for g in grants.values() for c in g.columns})
        found = re.match(r"Column '(.+?)' could not be resolved(?: for table: '(.+?)')?", message)
        where = re.search(r"Line: (\d+), Col: (\d+)", message)
        at = _(" (line {line}, column {column})", line=where[1], column=where[2]) if where else ""
        if found and found[2]:
            raise refuse(
                _(
                    "there is no table or alias {table} to take the field {field} from{at}",
                    table=found[2],
                    field=found[1],
                    at=at,
                ),
            ) from exc
        if found:
            raise refuse(
                _(
                    "there is no field {field}, or more than one table has it and the table "
                    "must be named{at}. The fields are: {fields}",
                    field=found[1],
                    at=at,
                    fields=fields,
                ),
                column=found[1],
            ) from exc
        raise refuse(
            _(
                "the query refers to a field, table or output column that does not exist{at}. "
                "The fields are: {fields}",
                at=at,
                fields=fields,
            ),
        ) from exc
