"""Rules of governed SQL that close oracles and crashes; pure functions, nothing runs here.

- ``scan``: when the tokenizer fails, find the unterminated string, quoted identifier or
  comment and where it starts. ``check_nesting``: on the tokens, refuse brackets nested
  deeper than ``MAX_NESTING`` (a parser recurses once per level: 5,000 brackets would
  exhaust Python's stack).
- ``depth``: after parsing, the tree's depth, measured without recursion (``1+1+…+1`` nests
  without brackets).
- ``typecheck``: every comparison, arithmetic and function argument is checked against the
  governed schema. An implicit conversion between text and numbers (``town = 1``,
  ``fee = 'abc'``) fails in the engine only on some values, so a query that fails only when a
  matching row exists is an oracle: it is refused before it runs.
- ``make_total``: arithmetic and scalar functions can still fail on a value (integer
  overflow, ``x // 0``, ``abs`` of the smallest integer): each one is wrapped in ``TRY`` so
  the engine answers NULL instead of failing (Spark runs with ANSI mode off, where these
  answer NULL or wrap already).
- ``describe``: a node said in words (what a user wrote), never a sqlglot class name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.tokens import Token, TokenType

from yaosu.kernel.errors import QueryInvalid

# Brackets nested deeper than this are refused before parsing: no real query needs more,
# and sqlglot's parser recurses a few frames per level (about 90 levels exhaust the stack).
MAX_NESTING = 32
# The deepest tree governed (qualify, type annotation and SQL generation recurse over it).
MAX_DEPTH = 120


def _position(sql: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset."""
    before = sql[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _invalid(zh: str, en: str, sql: str | None = None, offset: int | None = None) -> QueryInvalid:
    if sql is not None and offset is not None:
        line, col = _position(sql, offset)
        zh, en = f"{zh}（第 {line} 行第 {col} 列）", f"{en} (line {line}, column {col})"
        return QueryInvalid(reason_zh=zh, reason_en=en, line=line, column=col)
    return QueryInvalid(reason_zh=zh, reason_en=en)


def scan(sql: str) -> None:
    """Finds an unterminated string, quoted name or comment and says where it starts (used
    when the tokenizer fails, to say why in words).

    >>> scan("SELECT 'a''b' -- fine")
    >>> scan("SELECT 'abc")
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryInvalid: The query cannot run: a text value in single quotes is not closed (line 1, column 8)
    """
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("$$", i):
            end = sql.find("$$", i + 2)
            if end == -1:
                raise _invalid(
                    "$$ 之间的文本没有结束，请补上 $$", "a text value in $$ is not closed", sql, i
                )
            i = end + 2
            continue
        if ch in ("'", '"'):
            backslash = ch == "'" and i > 0 and sql[i - 1] in "eE"
            end = i + 1
            while True:
                if backslash:
                    while end < n and sql[end] != ch:
                        end += 2 if sql[end] == "\\" else 1
                    end = end if end < n else -1
                else:
                    end = sql.find(ch, end)
                if end == -1:
                    if ch == "'":
                        raise _invalid(
                            "单引号中的文本没有结束，请补上右引号 '",
                            "a text value in single quotes is not closed",
                            sql,
                            i,
                        )
                    raise _invalid(
                        '双引号中的名称没有结束，请补上右引号 "',
                        "a name in double quotes is not closed",
                        sql,
                        i,
                    )
                if end + 1 < n and sql[end + 1] == ch:  # a doubled quote stands for itself
                    end += 2
                    continue
                break
            i = end + 1
            continue
        if sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline == -1 else newline + 1
            continue
        if sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end == -1:
                raise _invalid(
                    "注释 /* 没有结束，请补上 */", "a comment /* is not closed with */", sql, i
                )
            i = end + 2
            continue
        i += 1


_OPEN = (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE)
_CLOSE = (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE)


def check_nesting(tokens: list[Token], sql: str) -> None:
    """Refuses brackets nested deeper than ``MAX_NESTING``, with where the first too deep
    one opens."""
    level = 0
    for token in tokens:
        if token.token_type in _OPEN:
            level += 1
            if level > MAX_NESTING:
                raise _invalid(
                    f"括号嵌套过深（最多 {MAX_NESTING} 层）",
                    f"brackets are nested too deeply ({MAX_NESTING} levels at most)",
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
        raise _invalid(
            f"表达式嵌套过深（最多 {MAX_DEPTH} 层），请拆成较简单的条件",
            f"the expression is nested too deeply ({MAX_DEPTH} levels at most); write simpler conditions",
        )


# --- in words ------------------------------------------------------------------------------

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


# --- types ---------------------------------------------------------------------------------

TEXT, NUMBER, TEMPORAL, BOOLEAN, OTHER = "text", "number", "temporal", "boolean", "other"
_KIND_ZH = {TEXT: "文本", NUMBER: "数字", TEMPORAL: "日期时间", BOOLEAN: "真假值", OTHER: "其他"}
_KIND_EN = {TEXT: "text", NUMBER: "a number", TEMPORAL: "a date or time", BOOLEAN: "a boolean"}
_LIKE_WITH_LIKE = (
    "请让比较的两边类型一致：数字与数字比较（数字不加引号），文本与加引号的文本比较，"
    "日期与 'YYYY-MM-DD' 比较；需要转换时用 TRY_CAST(字段 AS 类型)（无法转换时得 NULL）"
)
_LIKE_WITH_LIKE_EN = (
    "compare like with like: a number with a number (no quotes), text with quoted text, a "
    "date with 'YYYY-MM-DD'; to convert, use TRY_CAST(field AS type), which gives NULL "
    "instead of failing"
)


def kind_of(node: exp.Expr) -> str | None:
    """The type class of an annotated node; None when unknown or NULL."""
    if isinstance(node, exp.Null):
        return None
    t = node.type
    if t is None or t.this in (exp.DType.UNKNOWN, exp.DType.NULL):
        return None
    if t.this in exp.DataType.TEXT_TYPES:
        return TEXT
    if t.this in exp.DataType.NUMERIC_TYPES:
        return NUMBER
    if t.this in exp.DataType.TEMPORAL_TYPES:
        return TEMPORAL
    if t.this == exp.DType.BOOLEAN:
        return BOOLEAN
    return OTHER


def _canonical_time(node: exp.Expr, target: exp.DataType | None) -> str | None:
    """A text literal compared with a date, time or timestamp, parsed here and written back
    in the one form every engine reads ('2024-01-01', '2024-01-01 08:00:00'); None when it
    is not one. The engine converts it lazily, row by row, so a form it cannot read would
    fail only when a row is compared: it must be known good before the query runs."""
    if not (isinstance(node, exp.Literal) and node.is_string):
        return None
    text = node.this.strip()
    kind = target.this if target is not None else None
    try:
        if kind in (exp.DType.DATE, exp.DType.DATE32):
            return dt.date.fromisoformat(text).isoformat()
        if kind in (exp.DType.TIME, exp.DType.TIMETZ):
            return dt.time.fromisoformat(text).isoformat()
        return dt.datetime.fromisoformat(text).isoformat(sep=" ")
    except ValueError:
        return None


def _operands(node: exp.Expr) -> list[exp.Expr | None] | None:
    """The values that must share one type class, for the nodes that compare or combine."""
    if isinstance(node, exp.In):
        if node.args.get("query") is not None or node.args.get("unnest") is not None:
            return None
        return [node.this, *node.expressions]
    if isinstance(node, exp.Between):
        return [node.this, node.args.get("low"), node.args.get("high")]
    if isinstance(node, exp.Coalesce | exp.Greatest | exp.Least):
        return [node.this, *node.expressions]
    if isinstance(node, exp.Case):
        values = [w.args.get("true") for w in node.args.get("ifs") or []]
        return [*values, node.args.get("default")]
    if isinstance(node, exp.If):
        return [node.args.get("true"), node.args.get("false")]
    if isinstance(node, exp.Is):  # x IS TRUE converts x to a boolean, value by value
        return None if isinstance(node.expression, exp.Null) else [node.this, node.expression]
    if isinstance(node, exp.Predicate | exp.Nullif) and isinstance(node, exp.Binary | exp.Nullif):
        if isinstance(node, exp.Like | exp.ILike):
            return None
        return [node.this, node.expression]
    return None


def _mixed(node: exp.Expr, operands: list[exp.Expr | None]) -> None:
    present = [(o, kind_of(o)) for o in operands if o is not None]
    kinds = {k for _, k in present if k is not None}
    if len(kinds) <= 1 or OTHER in kinds:
        return
    if kinds == {TEXT, TEMPORAL}:
        target = next(o.type for o, k in present if k == TEMPORAL)
        texts = [o for o, k in present if k == TEXT]
        canonical = [_canonical_time(o, target) for o in texts]
        if all(c is not None for c in canonical):
            for literal, text in zip(texts, canonical, strict=True):
                literal.replace(exp.Literal.string(str(text)))
            return
    a, b = sorted(kinds)[:2]
    raise _invalid(
        f"{snippet(node)} 把{_KIND_ZH[a]}和{_KIND_ZH[b]}放在一起比较或运算，"
        f"引擎会逐个值隐式转换，可能因某个取值而失败。{_LIKE_WITH_LIKE}",
        f"{snippet(node)} mixes {_KIND_EN.get(a, a)} with {_KIND_EN.get(b, b)}: the engine "
        f"would convert value by value, which can fail on some values. {_LIKE_WITH_LIKE_EN}",
    )


_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)
_NUMERIC_ARGS = (exp.Neg, exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Sign, exp.Sum, exp.Avg)


def typecheck(tree: exp.Expr, schema: dict[str, object]) -> exp.Expr:
    """Annotates ``tree`` with the governed schema's types and refuses what could fail at run
    time depending on a value: an implicit conversion between text and numbers (or text and
    dates, unless the text is a date literal), arithmetic on text."""
    annotate_types(tree, schema=schema, dialect="duckdb")
    for node in tree.walk():
        operands = _operands(node)
        if operands is not None:
            _mixed(node, operands)
        if isinstance(node, _ARITHMETIC) and not isinstance(node, exp.DPipe):
            kinds = {kind_of(node.this), kind_of(node.expression)}
            if TEXT in kinds or BOOLEAN in kinds:
                raise _invalid(
                    f"{snippet(node)} 对文本或真假值做计算，可能因某个取值而失败。{_LIKE_WITH_LIKE}",
                    f"{snippet(node)} computes with text or a boolean, which can fail on some "
                    f"values. {_LIKE_WITH_LIKE_EN}",
                )
        if isinstance(node, _NUMERIC_ARGS) and kind_of(node.this) in (TEXT, TEMPORAL, BOOLEAN):
            name = "SUM/AVG" if isinstance(node, exp.Sum | exp.Avg) else snippet(node)
            raise _invalid(
                f"{name} 只能作用于数字字段，{snippet(node.this)} 不是数字",
                f"{name} takes a number, and {snippet(node.this)} is not one",
            )
    return tree


# Scalar functions that can fail on a value in DuckDB and are made total with TRY.
_FALLIBLE = (
    *_ARITHMETIC,
    exp.Neg,
    exp.Abs,
    exp.Round,
    exp.Floor,
    exp.Ceil,
    exp.Substring,
    exp.Left,
    exp.Right,
    exp.DateTrunc,
    exp.Extract,
    exp.Year,
    exp.Month,
    exp.Day,
)


def _fallible(tree: exp.Expr) -> Iterator[exp.Expr]:
    for node in tree.walk():
        if isinstance(node, _FALLIBLE) and not isinstance(node.parent, exp.Try):
            yield node


def make_total(tree: exp.Expr) -> exp.Expr:
    """Wraps every computation that can fail on a value in TRY (NULL instead of an error).

    >>> import sqlglot
    >>> make_total(sqlglot.parse_one("SELECT a * 2 FROM t")).sql("duckdb")
    'SELECT TRY(a * 2) FROM t'
    """
    # Deepest first (a breadth-first walk, reversed), each node moved into its wrapper.
    for node in reversed(list(_fallible(tree))):
        wrapper = exp.Try()
        node.replace(wrapper)
        wrapper.set("this", node)
    return tree
