"""Rule: parse. Exactly one statement, a read-only SELECT (DuckDB dialect,
``ErrorLevel.RAISE``), within the nesting limits."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from yaosu.access.governance.depth import MAX_DEPTH, check_depth, check_nesting
from yaosu.access.governance.refusals import invalid, refuse
from yaosu.access.governance.scan import scan
from yaosu.kernel.i18n import _


def _first_word(tree: exp.Expr, sql: str) -> str:
    """The statement's first keyword as the user wrote it (DROP, PRAGMA, INSTALL…)."""
    words = sql.strip().split()
    return words[0].upper()[:20] if words else tree.key


def parse(sql: str) -> exp.Expr:
    """The one read-only statement ``sql`` holds.

    >>> parse("SELECT 1").sql()
    'SELECT 1'
    >>> parse("DROP TABLE t")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryRefused: ...
    """
    if len(sql) > 20_000:
        raise invalid(_("the query is too long (20,000 characters at most)"))
    dialect = Dialect.get_or_raise("duckdb")
    try:
        tokens = dialect.tokenize(sql)
    except TokenError as exc:
        scan(sql)  # says which string, name or comment is not closed, and where
        raise invalid(
            _(
                "the query does not parse: it holds a character it cannot read or text that does not end"
            ),
        ) from exc
    check_nesting(tokens, sql)  # before the parser, which recurses once per level
    try:
        parser = dialect.parser(error_level=sqlglot.ErrorLevel.RAISE)
        statements = [s for s in parser.parse(tokens, sql) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = (
            _(" (near line {line}, column {column})", line=first["line"], column=first["col"])
            if first.get("line")
            else ""
        )
        near = first.get("highlight") or ""
        problem = (
            _("{near!r} is not valid SQL there", near=near) if near else _("it is not valid SQL")
        )
        raise invalid(
            _(
                "the query does not parse{where}: {problem}; check spelling, brackets and commas",
                where=where,
                problem=problem,
            ),
            line=first.get("line"),
            column=first.get("col"),
        ) from exc
    except RecursionError as exc:
        raise invalid(
            _(
                "the expression is nested too deeply ({MAX_DEPTH} levels at most); write simpler conditions",
                MAX_DEPTH=MAX_DEPTH,
            ),
        ) from exc
    if len(statements) != 1:
        raise refuse(_("submit exactly one statement"))
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.Union | exp.Intersect | exp.Except):
        word = _first_word(tree, sql)
        raise refuse(
            _(
                "only a read-only SELECT is allowed, not a {word} statement (queries read; they do not change, set or load anything)",
                word=word,
            ),
        )
    check_depth(tree)
    return tree
