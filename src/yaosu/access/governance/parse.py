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
        raise invalid(
            "查询过长（上限 20000 字符）", "the query is too long (20,000 characters at most)"
        )
    dialect = Dialect.get_or_raise("duckdb")
    try:
        tokens = dialect.tokenize(sql)
    except TokenError as exc:
        scan(sql)  # says which string, name or comment is not closed, and where
        raise invalid(
            "查询无法解析：其中有无法识别的字符或没有结束的文本",
            "the query does not parse: it holds a character it cannot read or text that "
            "does not end",
        ) from exc
    check_nesting(tokens, sql)  # before the parser, which recurses once per level
    try:
        parser = dialect.parser(error_level=sqlglot.ErrorLevel.RAISE)
        statements = [s for s in parser.parse(tokens, sql) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where_zh = where_en = ""
        if first.get("line"):
            where_zh = f"（第 {first['line']} 行第 {first['col']} 列附近）"
            where_en = f" (near line {first['line']}, column {first['col']})"
        near = first.get("highlight") or ""
        raise invalid(
            f"查询无法解析{where_zh}：{'「' + near + '」处' if near else ''}不是有效的 SQL；"
            "请检查拼写、括号和逗号",
            f"the query does not parse{where_en}: {repr(near) + ' ' if near else ''}is not "
            "valid SQL there; check spelling, brackets and commas",
            line=first.get("line"),
            column=first.get("col"),
        ) from exc
    except RecursionError as exc:
        raise invalid(
            f"表达式嵌套过深（最多 {MAX_DEPTH} 层），请拆成较简单的条件",
            f"the expression is nested too deeply ({MAX_DEPTH} levels at most); write simpler conditions",
        ) from exc
    if len(statements) != 1:
        raise refuse("只能提交一条查询语句", "submit exactly one statement")
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.Union | exp.Intersect | exp.Except):
        word = _first_word(tree, sql)
        raise refuse(
            f"只允许只读的 SELECT 查询，不允许 {word} 语句（只能读取，不能修改、设置或加载）",
            f"only a read-only SELECT is allowed, not a {word} statement (queries read; they do "
            "not change, set or load anything)",
        )
    check_depth(tree)
    return tree
