"""Rule: every node is of an allowed kind. What sqlglot keeps as an opaque ``Command``, any
DDL/DML/PRAGMA/SET/COPY/ATTACH, any function not on the list, any table function, is
refused; so is any window function (it returns one row per person)."""

from __future__ import annotations

from sqlglot import exp

from yaosu.access.governance.allowed import ALLOWED_FUNCTIONS, SCALARS, STRUCTURE
from yaosu.access.governance.refusals import refuse
from yaosu.access.governance.words import describe
from yaosu.kernel.i18n import _


def check_nodes(expression: exp.Expr, *, aggregates: tuple[type, ...], query: str = "") -> exp.Expr:
    """Refuses the first node not on the allow-list, saying what is allowed.

    >>> import sqlglot
    >>> from yaosu.access.governance.allowed import AGGREGATES
    >>> tree = sqlglot.parse_one("SELECT count(*) FROM t")
    >>> check_nodes(tree, aggregates=AGGREGATES) is tree
    True
    >>> check_nodes(sqlglot.parse_one("SELECT read_csv('x')"), aggregates=AGGREGATES)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryRefused: ...
    """
    allowed = (*STRUCTURE, *SCALARS, *aggregates)
    for node in expression.walk():
        if isinstance(node, exp.Window):
            raise refuse(
                _("window functions are not allowed (they return one row per person)"),
            )
        if not isinstance(node, allowed):
            raise refuse(
                _(
                    "{what}: not allowed in a query. Allowed aggregates: {aggregates}; other "
                    "functions allowed: {functions}",
                    what=describe(node, query),
                    aggregates=", ".join(a.__name__.upper() for a in aggregates),
                    functions=ALLOWED_FUNCTIONS,
                ),
            )
    return expression
