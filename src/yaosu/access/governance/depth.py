"""Limits on nesting, so no parser or tree walk exhausts Python's stack: brackets are
counted on the tokens (a parser recurses once per level: 5,000 brackets would exhaust it),
and the parsed tree's depth is measured without recursion (``1+1+…+1`` nests without
brackets)."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from yaosu.access.governance.refusals import invalid, invalid_at
from yaosu.kernel.i18n import _

# Brackets nested deeper than this are refused before parsing: no real query needs more,
# and sqlglot's parser recurses a few frames per level (about 90 levels exhaust the stack).
MAX_NESTING = 32
# The deepest tree governed (qualify, type annotation and SQL generation recurse over it).
MAX_DEPTH = 120

_OPEN = (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE)
_CLOSE = (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE)


def check_nesting(tokens: list[Token], sql: str) -> None:
    """Refuses brackets nested deeper than ``MAX_NESTING``, with where the first too deep
    one opens.

    >>> from sqlglot.dialects.dialect import Dialect
    >>> sql = "SELECT " + "(" * 40 + "1" + ")" * 40
    >>> check_nesting(Dialect.get_or_raise("duckdb").tokenize(sql), sql)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryInvalid: ...
    """
    level = 0
    for token in tokens:
        if token.token_type in _OPEN:
            level += 1
            if level > MAX_NESTING:
                raise invalid_at(
                    _(
                        "brackets are nested too deeply ({MAX_NESTING} levels at most)",
                        MAX_NESTING=MAX_NESTING,
                    ),
                    sql,
                    token.start,
                )
        elif token.token_type in _CLOSE:
            level = max(0, level - 1)


def depth(tree: exp.Expr) -> int:
    """The depth of a tree, without recursion.

    >>> import sqlglot
    >>> depth(sqlglot.parse_one("SELECT 1 + 1 + 1")) > depth(sqlglot.parse_one("SELECT 1"))
    True
    """
    deepest = 0
    stack: list[tuple[exp.Expr, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.iter_expressions())
    return deepest


def check_depth(tree: exp.Expr) -> None:
    if depth(tree) > MAX_DEPTH:
        raise invalid(
            _(
                "the expression is nested too deeply ({MAX_DEPTH} levels at most); write simpler conditions",
                MAX_DEPTH=MAX_DEPTH,
            ),
        )
