"""A node said in words (what a user wrote), never a sqlglot class name."""

from __future__ import annotations

from sqlglot import exp

_WORDS: list[tuple[type | tuple[type, ...], str, str]] = [
    (exp.Placeholder, "参数占位符（? 或 $1）", "parameter placeholders (? or $1)"),
    (
        (exp.ByteString, exp.RawString, exp.National),
        "这种文本写法（E'…'、$$…$$、N'…'；请写成单引号文本，内部的单引号写两次：'it''s'）",
        "this way of writing text (E'…', $$…$$, N'…'; write text in single quotes, doubling a "
        "quote inside: 'it''s')",
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
        "按位运算（& | ^ ~ << >>）",
        "bitwise operators (& | ^ ~ << >>)",
    ),
    (
        (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv),
        "计算（+ - * / %）",
        "arithmetic (+ - * / %)",
    ),
    (exp.DPipe, "文本拼接（||）", "text concatenation (||)"),
    (
        exp.Cast,
        "CAST 类型转换（会因取值失败；请用 TRY_CAST）",
        "CAST (it fails on some values; use TRY_CAST)",
    ),
    (exp.TryCast, "TRY_CAST 类型转换", "TRY_CAST"),
    ((exp.Case, exp.If, exp.When), "CASE/IF 条件表达式", "CASE or IF expressions"),
    (exp.Lambda, "lambda 表达式（x -> …）", "lambda expressions (x -> …)"),
    (
        (exp.Array, exp.Struct, exp.Map, exp.Tuple),
        "列表、结构或映射值",
        "list, struct or map values",
    ),
    (
        (exp.Dot, exp.Bracket),
        "下标或成员访问（x[1]、x.y）",
        "subscripts or member access (x[1], x.y)",
    ),
    ((exp.Subquery, exp.Select), "子查询", "subqueries"),
    (
        (exp.Union, exp.Intersect, exp.Except),
        "集合运算（UNION/INTERSECT/EXCEPT）",
        "set operations (UNION, INTERSECT, EXCEPT)",
    ),
    (exp.Window, "窗口函数（OVER …）", "window functions (OVER …)"),
    ((exp.Order, exp.Ordered), "ORDER BY", "ORDER BY"),
    ((exp.Limit, exp.Offset), "LIMIT/OFFSET", "LIMIT or OFFSET"),
    (exp.Interval, "时间间隔（INTERVAL）", "intervals (INTERVAL)"),
    (exp.Distinct, "DISTINCT", "DISTINCT"),
    ((exp.Like, exp.ILike), "LIKE 匹配", "LIKE"),
    (exp.Column, "字段", "fields"),
]


def snippet(node: exp.Expr, limit: int = 60) -> str:
    text = node.sql("duckdb")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(node: exp.Expr, query: str = "") -> tuple[str, str]:
    """What a node is, in words a user knows (Chinese, English).

    >>> import sqlglot
    >>> describe(sqlglot.parse_one("SELECT 1 & 2").expressions[0])
    ('按位运算（& | ^ ~ << >>）', 'bitwise operators (& | ^ ~ << >>)')
    """
    for kinds, zh, en in _WORDS:
        if isinstance(node, kinds):
            return zh, en
    if isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else snippet(node).split("(")[0]
        if name and name.lower() in query.lower():
            return f"函数 {name.lower()}", f"the function {name.lower()}"
        return f"函数调用 {snippet(node)}", f"the function call {snippet(node)}"
    return f"写法 {snippet(node)}", f"the expression {snippet(node)}"
