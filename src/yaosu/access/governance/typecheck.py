"""Type check: every comparison, arithmetic and function argument is checked against the
governed schema. An implicit conversion between text and numbers (``town = 1``,
``fee = 'abc'``) fails in the engine only on some values, so a query that fails only when a
matching row exists is an oracle: it is refused before it runs."""

from __future__ import annotations

import datetime as dt

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

from yaosu.access.governance.model import Grant
from yaosu.access.governance.refusals import invalid
from yaosu.access.governance.words import snippet
from yaosu.access.labels import VALUE_KIND
from yaosu.kernel.i18n import label

TEXT, NUMBER, TEMPORAL, BOOLEAN, OTHER = "text", "number", "temporal", "boolean", "other"
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
    a, b = (label(VALUE_KIND, kind) for kind in sorted(kinds)[:2])
    raise invalid(
        f"{snippet(node)} 把{a.render('zh-CN')}和{b.render('zh-CN')}放在一起比较或运算，"
        f"引擎会逐个值隐式转换，可能因某个取值而失败。{_LIKE_WITH_LIKE}",
        f"{snippet(node)} mixes {a} with {b}: the engine "
        f"would convert value by value, which can fail on some values. {_LIKE_WITH_LIKE_EN}",
    )


ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)
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
        if isinstance(node, ARITHMETIC) and not isinstance(node, exp.DPipe):
            kinds = {kind_of(node.this), kind_of(node.expression)}
            if TEXT in kinds or BOOLEAN in kinds:
                raise invalid(
                    f"{snippet(node)} 对文本或真假值做计算，可能因某个取值而失败。{_LIKE_WITH_LIKE}",
                    f"{snippet(node)} computes with text or a boolean, which can fail on some "
                    f"values. {_LIKE_WITH_LIKE_EN}",
                )
        if isinstance(node, _NUMERIC_ARGS) and kind_of(node.this) in (TEXT, TEMPORAL, BOOLEAN):
            name = "SUM/AVG" if isinstance(node, exp.Sum | exp.Avg) else snippet(node)
            raise invalid(
                f"{name} 只能作用于数字字段，{snippet(node.this)} 不是数字",
                f"{name} takes a number, and {snippet(node.this)} is not one",
            )
    return tree


def typed_schema(grants: dict[str, Grant]) -> dict[str, object]:
    """The types the consumer's query sees: a masked column is text (a hash or a mask)."""
    return {
        name: {c: ("VARCHAR" if c in g.masks else t) for c, t in g.columns.items()}
        for name, g in grants.items()
    }


def check_types(expression: exp.Expr, *, grants: dict[str, Grant]) -> exp.Expr:
    """The rule: ``typecheck`` under the types the grants show.

    >>> import sqlglot
    >>> grants = {"d": Grant("d", "s", {"town": "VARCHAR"}, frozenset({"town"}))}
    >>> check_types(sqlglot.parse_one("SELECT d.town FROM d AS d WHERE d.town = 1"), grants=grants)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryInvalid: ...
    """
    return typecheck(expression, typed_schema(grants))
