"""A node said in words (what a user wrote), never a sqlglot class name."""

from __future__ import annotations

from sqlglot import exp

from yaosu.kernel.i18n import N_, Message, _

_WORDS: list[tuple[type | tuple[type, ...], str]] = [
    (exp.Placeholder, N_("parameter placeholders (? or $1)")),
    (
        (exp.ByteString, exp.RawString, exp.National),
        N_(
            "this way of writing text (E'…', $$…$$, N'…'; write text in single quotes, doubling a quote inside: 'it''s')"
        ),
    ),
    (
        (
            exp.BitwiseAnd,
            exp.BitwiseOr,
            exp.BitwiseXor,
            exp.BitwiseNot,
            exp.BitwiseLeftShift,
            exp.BitwiseRightShift,
        ),
        N_("bitwise operators (& | ^ ~ << >>)"),
    ),
    ((exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv), N_("arithmetic (+ - * / %)")),
    (exp.DPipe, N_("text concatenation (||)")),
    (exp.Cast, N_("CAST (it fails on some values; use TRY_CAST)")),
    (exp.TryCast, N_("TRY_CAST")),
    ((exp.Case, exp.If, exp.When), N_("CASE or IF expressions")),
    (exp.Lambda, N_("lambda expressions (x -> …)")),
    ((exp.Array, exp.Struct, exp.Map, exp.Tuple), N_("list, struct or map values")),
    ((exp.Dot, exp.Bracket), N_("subscripts or member access (x[1], x.y)")),
    ((exp.Subquery, exp.Select), N_("subqueries")),
    ((exp.Union, exp.Intersect, exp.Except), N_("set operations (UNION, INTERSECT, EXCEPT)")),
    (exp.Window, N_("window functions (OVER …)")),
    ((exp.Order, exp.Ordered), N_("ORDER BY")),
    ((exp.Limit, exp.Offset), N_("LIMIT or OFFSET")),
    (exp.Interval, N_("intervals (INTERVAL)")),
    (exp.Distinct, N_("DISTINCT")),
    ((exp.Like, exp.ILike), N_("LIKE")),
    (exp.Column, N_("fields")),
]


def snippet(node: exp.Expr, limit: int = 60) -> str:
    text = node.sql("duckdb")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(node: exp.Expr, query: str = "") -> Message:
    """What a node is, in words a user knows.

    >>> import sqlglot
    >>> describe(sqlglot.parse_one("SELECT 1 & 2").expressions[0]).render("zh-CN")
    '按位运算（& | ^ ~ << >>）'
    """
    for kinds, msgid in _WORDS:
        if isinstance(node, kinds):
            return _(msgid)
    if isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else snippet(node).split("(")[0]
        if name and name.lower() in query.lower():
            return _("the function {name}", name=name.lower())
        return _("the function call {call}", call=snippet(node))
    return _("the expression {expression}", expression=snippet(node))
