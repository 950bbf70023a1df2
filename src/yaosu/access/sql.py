"""Governed SQL: a consumer's query, parsed, checked and rewritten so that it can only see
what its contract grants. Pure functions over sqlglot trees; nothing here runs a query.

1. Parse (DuckDB dialect, ``ErrorLevel.RAISE``): exactly one statement, a read-only SELECT.
2. Every node must be of an allowed kind (an allow-list, not a deny-list: what sqlglot keeps
   as an opaque ``Command``, any DDL/DML/PRAGMA/SET/COPY/ATTACH, any function not on the
   list, any table function, is refused), every table must be a dataset the contract covers,
   and no CTE may take a dataset's name.
3. Qualify against the granted schema (stars expanded, every column resolved): a column the
   contract does not grant does not exist. Masked columns cannot filter, join, group or order.
4. Aggregate-only contracts accept one shape: a single dataset, WHERE, GROUP BY columns, and
   COUNT/SUM/AVG; their results are made safe afterwards (group suppression or DP).
5. Rewrite: each dataset becomes a policy view (granted columns, masks applied, the row
   filter, one row per privacy unit); the result is SQL text for the engine.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.qualify import qualify

from yaosu.access import sqlrules
from yaosu.kernel.errors import QueryInvalid, QueryRefused

# Aggregates a consumer may use; MIN/MAX only where rows may be seen anyway (they reveal one
# person's value), and never under DP.
AGGREGATES_DP = (exp.Count, exp.Sum, exp.Avg)
AGGREGATES = (*AGGREGATES_DP, exp.Min, exp.Max)
# Scalar functions that read only their arguments: no files, network, settings, environment.
# No function that can fail on a value is here (CAST, logarithms, roots, powers): a
# data-dependent error is an oracle ("error if the person exists"); TRY_CAST answers NULL.
SCALARS = (
    exp.Abs,
    exp.Round,
    exp.Floor,
    exp.Ceil,
    exp.Coalesce,
    exp.TryCast,
    exp.Lower,
    exp.Upper,
    exp.Length,
    exp.Substring,
    exp.Trim,
    exp.DateTrunc,
    exp.Year,
    exp.Month,
    exp.Day,
    exp.Extract,
    exp.If,
    exp.Case,
    exp.Greatest,
    exp.Least,
    exp.Nullif,
    exp.Concat,
    exp.Left,
    exp.Right,
    exp.Sign,
    exp.StrPosition,
)
# What an aggregate-only WHERE may hold: comparisons of fields with constants, nothing that
# computes (so nothing that can overflow or fail depending on a person's value).
WHERE_AGGREGATE = (
    exp.Where,
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Not,
    exp.And,
    exp.Or,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Tuple,
    exp.Neg,
)
# Every other kind of node a read-only query may hold.
STRUCTURE = (
    exp.Select,
    exp.From,
    exp.Join,
    exp.Where,
    exp.Group,
    exp.Having,
    exp.Order,
    exp.Ordered,
    exp.Limit,
    exp.Offset,
    exp.Column,
    exp.Identifier,
    exp.Table,
    exp.TableAlias,
    exp.Alias,
    exp.Star,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.IntDiv,
    exp.DPipe,
    exp.DataType,
    exp.DataTypeParam,
    exp.Distinct,
    exp.With,
    exp.CTE,
    exp.Subquery,
    exp.Union,
    exp.Intersect,
    exp.Except,
    exp.Tuple,
    exp.Interval,
    exp.Var,
    exp.When,
)
ROW_LIMIT = 10_000  # the most rows a row-level query returns


@dataclass(frozen=True)
class Grant:
    """What one contract grants on one dataset."""

    dataset_id: str
    source: str  # the engine's name for the dataset version (never writable by the user)
    columns: dict[str, str]  # granted column -> SQL type
    all_columns: frozenset[str]  # every column of the version, to tell "not granted" apart
    masks: dict[str, str] = field(default_factory=dict)  # column -> hash | mask
    row_filter: str | None = None
    # The privacy unit: the column, or columns together, that name one person (contribution
    # bounding keeps one row per unit). None: each row is a distinct person.
    unit: str | tuple[str, ...] | None = None
    mask_key: str = ""  # the secret prefix of hashed columns


@dataclass
class Aggregate:
    """One output column of an aggregate query and what it is."""

    name: str
    kind: str  # key | count | sum | avg
    column: str | None = None  # the aggregated column (sum/avg)


@dataclass
class Governed:
    sql: str  # the query as written, normalised
    rewritten: str  # what runs
    tables: list[str]  # dataset ids used
    aggregate: bool
    outputs: list[Aggregate]
    group_keys: list[str]
    count_column: str | None  # the hidden per-group row count added for suppression
    # Aggregate answers: ORDER BY (output index, descending, nulls first), LIMIT and OFFSET,
    # applied by the service to the released rows (after noise and suppression).
    order: list[tuple[int, bool, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


def _refuse(zh: str, en: str, **detail: Any) -> QueryRefused:
    return QueryRefused(reason_zh=zh, reason_en=en, **detail)


def _invalid(zh: str, en: str, **detail: Any) -> QueryInvalid:
    return QueryInvalid(reason_zh=zh, reason_en=en, **detail)


def _first_word(tree: exp.Expr, sql: str) -> str:
    """The statement's first keyword as the user wrote it (DROP, PRAGMA, INSTALL…)."""
    words = sql.strip().split()
    return words[0].upper()[:20] if words else tree.key


def parse(sql: str) -> exp.Expr:
    if len(sql) > 20_000:
        raise _invalid(
            "查询过长（上限 20000 字符）", "the query is too long (20,000 characters at most)"
        )
    dialect = Dialect.get_or_raise("duckdb")
    try:
        tokens = dialect.tokenize(sql)
    except TokenError as exc:
        sqlrules.scan(sql)  # says which string, name or comment is not closed, and where
        raise _invalid(
            "查询无法解析：其中有无法识别的字符或没有结束的文本",
            "the query does not parse: it holds a character it cannot read or text that "
            "does not end",
        ) from exc
    sqlrules.check_nesting(tokens, sql)  # before the parser, which recurses once per level
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
        raise _invalid(
            f"查询无法解析{where_zh}：{'「' + near + '」处' if near else ''}不是有效的 SQL；"
            "请检查拼写、括号和逗号",
            f"the query does not parse{where_en}: {repr(near) + ' ' if near else ''}is not "
            "valid SQL there; check spelling, brackets and commas",
            line=first.get("line"),
            column=first.get("col"),
        ) from exc
    except RecursionError as exc:
        raise _invalid(
            f"表达式嵌套过深（最多 {sqlrules.MAX_DEPTH} 层），请拆成较简单的条件",
            f"the expression is nested too deeply ({sqlrules.MAX_DEPTH} levels at most); write simpler conditions",
        ) from exc
    if len(statements) != 1:
        raise _refuse("只能提交一条查询语句", "submit exactly one statement")
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.Union | exp.Intersect | exp.Except):
        word = _first_word(tree, sql)
        raise _refuse(
            f"只允许只读的 SELECT 查询，不允许 {word} 语句（只能读取，不能修改、设置或加载）",
            f"only a read-only SELECT is allowed, not a {word} statement (queries read; they do "
            "not change, set or load anything)",
        )
    sqlrules.check_depth(tree)
    return tree


# The scalar functions above as a user writes them in DuckDB's dialect (for messages).
ALLOWED_FUNCTIONS = (
    "abs, round, floor, ceil, sign, coalesce, nullif, greatest, least, if, CASE, try_cast, "
    "lower, upper, length, substring, trim, left, right, concat, strpos, date_trunc, year, "
    "month, day, extract"
)


def _allowed_functions() -> str:
    return ALLOWED_FUNCTIONS


def _check_nodes(tree: exp.Expr, aggregates: tuple[type, ...], query: str = "") -> None:
    allowed = (*STRUCTURE, *SCALARS, *aggregates)
    for node in tree.walk():
        if isinstance(node, exp.Window):
            raise _refuse(
                "不允许窗口函数（可逐行返回个人数据）",
                "window functions are not allowed (they return one row per person)",
            )
        if not isinstance(node, allowed):
            zh, en = sqlrules.describe(node, query)
            aggregates_en = ", ".join(a.__name__.upper() for a in aggregates)
            raise _refuse(
                f"查询中不允许使用{zh}。允许的统计函数：{aggregates_en}；"
                f"允许的其他函数：{_allowed_functions()}",
                f"{en}: not allowed in a query. Allowed aggregates: {aggregates_en}; other "
                f"functions allowed: {_allowed_functions()}",
            )


def _check_tables(tree: exp.Expr, grants: dict[str, Grant]) -> None:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for name in ctes:
        if name in {g.lower() for g in grants} or name.startswith("ds_"):
            raise _refuse(
                f"公用表表达式不能使用数据集名称 {name}",
                f"a CTE may not take the name of a dataset ({name})",
            )
    for table in tree.find_all(exp.Table):
        if table.args.get("db") or table.args.get("catalog"):
            raise _refuse(
                f"不允许访问 {table.sql('duckdb')}", f"{table.sql('duckdb')} is not accessible"
            )
        if not isinstance(table.this, exp.Identifier):
            raise _refuse("不允许表函数", "table functions are not allowed")
        name = table.name
        if name.lower() in ctes:
            continue
        if name not in grants:
            raise _refuse(
                f"授权协议不涵盖数据集 {name}",
                f"the contract does not cover the dataset {name}",
                table=name,
            )


def _schema(grants: dict[str, Grant]) -> dict[str, object]:
    return {name: dict(g.columns) for name, g in grants.items()}


def _typed_schema(grants: dict[str, Grant]) -> dict[str, object]:
    """The types the consumer's query sees: a masked column is text (a hash or a mask)."""
    return {
        name: {c: ("VARCHAR" if c in g.masks else t) for c, t in g.columns.items()}
        for name, g in grants.items()
    }


def _qualify(tree: exp.Expr, grants: dict[str, Grant]) -> exp.Expr:
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
                    raise _refuse(
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
            raise _refuse(
                f"查询中没有名为 {found[2]} 的表或别名，无法找到字段 {found[1]}{at_zh}",
                f"there is no table or alias {found[2]} to take the field {found[1]} from{at_en}",
            ) from exc
        if found:
            raise _refuse(
                f"没有字段 {found[1]}，或它在多张表中都有、须写明表名{at_zh}。可用字段：{fields}",
                f"there is no field {found[1]}, or more than one table has it and the table "
                f"must be named{at_en}. The fields are: {fields_en}",
                column=found[1],
            ) from exc
        raise _refuse(
            f"查询引用了不存在的字段、表或输出列{at_zh}。可用字段：{fields}",
            f"the query refers to a field, table or output column that does not exist{at_en}. "
            f"The fields are: {fields_en}",
        ) from exc


def _aliases(tree: exp.Expr, grants: dict[str, Grant]) -> dict[str, Grant]:
    return {t.alias_or_name: grants[t.name] for t in tree.find_all(exp.Table) if t.name in grants}


def _check_masks(tree: exp.Expr, grants: dict[str, Grant]) -> None:
    aliases = _aliases(tree, grants)
    clauses = [
        *tree.find_all(exp.Where),
        *tree.find_all(exp.Group),
        *tree.find_all(exp.Order),
        *tree.find_all(exp.Having),
    ]
    clauses += [j.args["on"] for j in tree.find_all(exp.Join) if j.args.get("on")]
    for total in tree.find_all(exp.Sum, exp.Avg):
        column = total.this
        grant = aliases.get(column.table) if isinstance(column, exp.Column) else None
        if grant is not None and column.name in grant.masks:
            raise _refuse(
                f"遮蔽字段 {column.name} 不能求和或平均",
                f"the masked field {column.name} cannot be summed or averaged",
                column=column.name,
            )
    for clause in clauses:
        for column in clause.find_all(exp.Column):
            grant = aliases.get(column.table)
            if grant is not None and column.name in grant.masks:
                raise _refuse(
                    f"遮蔽字段 {column.name} 不能用于筛选、连接、分组或排序",
                    f"the masked field {column.name} cannot be used to filter, join, group or order",
                    column=column.name,
                )


def govern(
    sql: str,
    grants: dict[str, Grant],
    *,
    aggregate_only: bool,
    dp: bool,
    bounds: dict[str, tuple[float, float]] | None = None,
    min_group_size: int | None = None,
) -> Governed:
    """Checks and rewrites ``sql`` under the grants; raises QueryRefused saying why not.

    The same query under the same grants is governed once and remembered (a consumer's
    dashboard repeats its queries); the random salt of contribution bounding is drawn afresh
    for every run."""
    key = (
        sql,
        tuple(sorted((n, _grant_key(g)) for n, g in grants.items())),
        aggregate_only,
        dp,
        tuple(sorted((bounds or {}).items())),
        min_group_size,
    )
    found = _GOVERNED.get(key)
    if found is None:
        try:
            found = _govern(
                sql,
                grants,
                aggregate_only=aggregate_only,
                dp=dp,
                bounds=bounds,
                min_group_size=min_group_size,
            )
        except RecursionError as exc:  # a backstop: the depth checks should come first
            raise _invalid(
                f"表达式嵌套过深（最多 {sqlrules.MAX_DEPTH} 层），请拆成较简单的条件",
                f"the expression is nested too deeply ({sqlrules.MAX_DEPTH} levels at most); "
                "write simpler conditions",
            ) from exc
        if len(_GOVERNED) > 1024:
            _GOVERNED.clear()
        _GOVERNED[key] = found
    return dataclasses.replace(
        found,
        rewritten=found.rewritten.replace(SALT, secrets.token_hex(8)),
        outputs=list(found.outputs),
        group_keys=list(found.group_keys),
    )


# Stands for the per-run salt in remembered rewrites (unguessable, so no query holds it).
SALT = secrets.token_hex(16)


_GOVERNED: dict[tuple[Any, ...], Governed] = {}


def _grant_key(g: Grant) -> tuple[Any, ...]:
    return (
        g.dataset_id,
        g.source,
        tuple(sorted(g.columns.items())),
        tuple(sorted(g.all_columns)),
        tuple(sorted(g.masks.items())),
        g.row_filter,
        g.unit,
        g.mask_key,
    )


def _govern(
    sql: str,
    grants: dict[str, Grant],
    *,
    aggregate_only: bool,
    dp: bool,
    bounds: dict[str, tuple[float, float]] | None = None,
    min_group_size: int | None = None,
) -> Governed:
    tree = parse(sql)
    _check_nodes(tree, AGGREGATES_DP if (aggregate_only or dp) else AGGREGATES, sql)
    _check_tables(tree, grants)
    tree = _qualify(tree, grants)
    _check_masks(tree, grants)
    tables = sorted({t.name for t in tree.find_all(exp.Table) if t.name in grants})
    if not tables:
        raise _invalid(
            "查询没有读取任何授权的数据集：请在 FROM 中写出协议涵盖的数据集"
            f"（{'、'.join(sorted(grants))}）",
            "the query reads no dataset: name a dataset the contract covers in FROM "
            f"({', '.join(sorted(grants))})",
        )
    sqlrules.typecheck(tree, _typed_schema(grants))
    normalised = tree.sql("duckdb")
    if aggregate_only or dp:
        return _aggregate(
            tree,
            grants,
            normalised,
            tables,
            dp=dp,
            bounds=bounds or {},
            min_group_size=min_group_size,
        )
    # Rows may be read, but a computation that fails on a hidden value (a filtered-out row the
    # engine evaluates first) would still reveal it: every such computation answers NULL.
    rewritten = _replace_tables(sqlrules.make_total(tree.copy()), grants, bound_units=False)
    # Whatever LIMIT the user wrote, no answer holds more than ROW_LIMIT rows. The cap goes
    # on the query itself where it can, so its ORDER BY still orders the answer (an outer
    # SELECT over an ordered subquery need not keep the order, and Spark does not).
    limit = rewritten.args.get("limit")
    written = limit.args.get("expression") if isinstance(limit, exp.Limit) else None
    if isinstance(rewritten, exp.Select) and (
        limit is None
        or (isinstance(written, exp.Literal) and not written.is_string and written.this.isdigit())
    ):
        cap = ROW_LIMIT if written is None else min(ROW_LIMIT, int(written.this))
        rewritten = rewritten.limit(cap)
    else:
        rewritten = (
            exp.select("*")
            .from_(
                exp.Subquery(this=rewritten, alias=exp.TableAlias(this=exp.to_identifier("__q")))
            )
            .limit(ROW_LIMIT)
        )
    outputs = [
        Aggregate(name=e.alias_or_name, kind="row") for e in getattr(tree, "expressions", [])
    ]
    return Governed(normalised, rewritten.sql("duckdb"), tables, False, outputs, [], None)


def _aggregate(
    tree: exp.Expr,
    grants: dict[str, Grant],
    normalised: str,
    tables: list[str],
    *,
    dp: bool,
    bounds: dict[str, tuple[float, float]],
    min_group_size: int | None,
) -> Governed:
    why = "仅限统计查询的授权" if not dp else "差分隐私查询"
    why_en = "an aggregate-only contract" if not dp else "a differentially private query"
    if not isinstance(tree, exp.Select):
        raise _refuse(f"{why}不允许集合运算", f"{why_en} allows no set operations")
    if any(tree.find_all(exp.CTE)) or any(tree.find_all(exp.Subquery)):
        raise _refuse(f"{why}不允许子查询或公用表表达式", f"{why_en} allows no subqueries or CTEs")
    if list(tree.find_all(exp.Join)) or len(tables) != 1:
        raise _refuse(
            f"{why}只能查询一个数据集，不允许连接", f"{why_en} reads one dataset, without joins"
        )
    where = tree.args.get("where")
    if where is not None:
        for node in where.walk():
            if not isinstance(node, WHERE_AGGREGATE):
                zh, en = sqlrules.describe(node)
                raise _refuse(
                    f"{why}的筛选条件只能比较字段与常量（=、<>、<、>、BETWEEN、IN、LIKE、"
                    f"IS NULL，用 AND/OR/NOT 组合），不能含{zh}",
                    f"{why_en} filters by comparing fields with constants only (=, <>, <, >, "
                    f"BETWEEN, IN, LIKE, IS NULL, joined by AND, OR, NOT), not with {en}",
                )
    if tree.args.get("having") or tree.args.get("distinct"):
        raise _refuse(
            f"{why}不允许 HAVING 或 DISTINCT（分组筛选由平台完成）",
            f"{why_en} allows no HAVING or DISTINCT (groups are filtered by the platform)",
        )
    group = tree.args.get("group")
    keys = [e for e in (group.expressions if group else [])]
    for key in keys:
        if not isinstance(key, exp.Column):
            raise _refuse("只能按字段分组", "group by plain fields only")
    key_names = {k.name for k in keys}
    grant = grants[tables[0]]
    outputs: list[Aggregate] = []
    for projection in tree.expressions:
        inner = projection.unalias()
        name = projection.alias_or_name
        if isinstance(inner, exp.Column):
            if inner.name not in key_names:
                raise _refuse(
                    f"输出必须是统计值或分组字段：{inner.name} 不是",
                    f"the output must be aggregates or grouping fields: {inner.name} is neither",
                    column=inner.name,
                )
            outputs.append(Aggregate(name, "key", inner.name))
            continue
        if not isinstance(inner, AGGREGATES_DP):
            raise _refuse(
                f"输出必须是 COUNT、SUM、AVG 或分组字段：{projection.sql('duckdb')}",
                f"the output must be COUNT, SUM, AVG or grouping fields: {projection.sql('duckdb')}",
            )
        arg = inner.this
        if isinstance(arg, exp.Distinct):
            raise _refuse("不允许 COUNT(DISTINCT …)", "COUNT(DISTINCT …) is not allowed")
        if isinstance(inner, exp.Count):
            outputs.append(
                Aggregate(name, "count", arg.name if isinstance(arg, exp.Column) else None)
            )
            continue
        if not isinstance(arg, exp.Column):
            raise _refuse("SUM、AVG 只能作用于字段", "SUM and AVG take a plain field")
        if arg.name in grant.masks:
            raise _refuse(
                f"遮蔽字段 {arg.name} 不能求和或平均",
                f"the masked field {arg.name} cannot be summed or averaged",
            )
        if dp and arg.name not in bounds:
            raise _refuse(
                f"差分隐私求和须声明字段 {arg.name} 的取值范围（bounds）",
                f"a private sum or average needs bounds for {arg.name}",
                column=arg.name,
            )
        outputs.append(Aggregate(name, "sum" if isinstance(inner, exp.Sum) else "avg", arg.name))
    # The engine computes exact per-group values: counts and (clamped) sums; averages are
    # released as noisy sum / noisy count, so the engine returns both parts.
    alias = tree.args["from_"].this.alias_or_name
    selects: list[exp.Expr] = [
        exp.column(k.name, table=alias, quoted=True).as_(f"k{i}", quoted=True)
        for i, k in enumerate(keys)
    ]
    for i, out in enumerate(outputs):
        if out.kind in ("sum", "avg"):
            value: exp.Expr = exp.column(str(out.column), table=alias, quoted=True)
            if out.column in bounds:
                lo, hi = bounds[str(out.column)]
                # Whole-number bounds stay integers, so an integer column is clamped and
                # summed in its own type (exact, and no per-row conversion); the sum is
                # converted once.
                low = exp.Literal.number(int(lo) if float(lo).is_integer() else lo)
                high = exp.Literal.number(int(hi) if float(hi).is_integer() else hi)
                value = exp.func("least", exp.func("greatest", value, low), high)
            selects.append(exp.cast(exp.Sum(this=value), "DOUBLE").as_(f"s{i}", quoted=True))
        if out.kind == "count" and out.column:
            selects.append(
                exp.Count(this=exp.column(out.column, table=alias, quoted=True)).as_(
                    f"c{i}", quoted=True
                )
            )
    selects.append(exp.Count(this=exp.Star()).as_("__n", quoted=True))
    inner = exp.select(*selects).from_(tree.args["from_"].this.copy())
    if tree.args.get("where"):
        # A negated field (-fee) overflows on the smallest integer: NULL instead of an error.
        inner.set("where", sqlrules.make_total(tree.args["where"].copy()))
    if keys:
        inner = inner.group_by(*[exp.column(k.name, table=alias, quoted=True) for k in keys])
    if not dp and min_group_size:
        inner = inner.having(
            exp.GTE(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(min_group_size))
        )
    rewritten = _replace_tables(inner, grants, bound_units=True)
    order, limit, offset = _released_order(tree, outputs)
    return Governed(
        normalised,
        rewritten.sql("duckdb"),
        tables,
        True,
        outputs,
        [k.name for k in keys],
        "__n",
        order=order,
        limit=limit,
        offset=offset,
    )


def _whole_number(node: exp.Expr | None, clause: str) -> int | None:
    if node is None:
        return None
    value = node.args.get("expression")
    if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
        return int(value.this)
    raise _invalid(
        f"{clause} 后只能写一个非负整数，例如 {clause} 10",
        f"{clause} takes a whole number, for example {clause} 10",
    )


def _released_order(
    tree: exp.Expr, outputs: list[Aggregate]
) -> tuple[list[tuple[int, bool, bool]], int | None, int]:
    """ORDER BY, LIMIT and OFFSET of an aggregate query, applied to the released rows (never
    to the exact ones, whose order would leak what the noise hides). ORDER BY names output
    columns: by alias, by position, or by repeating an output expression."""
    order: list[tuple[int, bool, bool]] = []
    clause = tree.args.get("order")
    names = [o.name for o in outputs]
    projections = [p.unalias().sql("duckdb") for p in tree.expressions]
    for ordered in clause.expressions if clause else []:
        target = ordered.this
        index: int | None = None
        if (
            isinstance(target, exp.Column)
            and target.name in names
            and (not target.table or outputs[names.index(target.name)].kind == "key")
        ):
            index = names.index(target.name)
        if index is None and target.sql("duckdb") in projections:
            index = projections.index(target.sql("duckdb"))
        if index is None and isinstance(target, exp.Column):
            keys = [i for i, o in enumerate(outputs) if o.kind == "key" and o.column == target.name]
            index = keys[0] if keys else None
        if index is None:
            raise _invalid(
                f"统计查询的 ORDER BY 只能按输出的列排序（{'、'.join(names)}）："
                f"{sqlrules.snippet(target)} 不是输出列",
                f"ORDER BY in an aggregate query sorts by output columns ({', '.join(names)}): "
                f"{sqlrules.snippet(target)} is not one",
            )
        desc = bool(ordered.args.get("desc"))
        nulls_first = bool(ordered.args.get("nulls_first"))
        order.append((index, desc, nulls_first))
    limit = _whole_number(tree.args.get("limit"), "LIMIT")
    offset = _whole_number(tree.args.get("offset"), "OFFSET") or 0
    return order, limit, offset


def apply_order(rows: list[list[Any]], governed: Governed) -> list[list[Any]]:
    """Sorts, skips and cuts released rows as the query's ORDER BY, OFFSET and LIMIT say.

    >>> g = Governed("", "", [], True, [], [], None, order=[(1, True, False)], limit=2)
    >>> apply_order([["a", 1], ["b", 3], ["c", None], ["d", 2]], g)
    [['b', 3], ['d', 2]]
    """
    out = list(rows)
    for index, desc, nulls_first in reversed(governed.order):  # stable: last key first
        present = [r for r in out if r[index] is not None]
        missing = [r for r in out if r[index] is None]
        present.sort(key=lambda r: r[index], reverse=desc)
        out = missing + present if nulls_first else present + missing
    out = out[governed.offset :]
    return out if governed.limit is None else out[: governed.limit]


def units_of(grant: Grant) -> tuple[str, ...]:
    """The privacy unit's columns; empty when each row is a distinct person."""
    if grant.unit is None:
        return ()
    return (grant.unit,) if isinstance(grant.unit, str) else tuple(grant.unit)


def policy_view(grant: Grant, *, bound_units: bool) -> exp.Select:
    """The dataset as the contract lets the consumer see it (public: extracts read it too)."""
    return _policy_view(grant, bound_units=bound_units)


def _policy_view(grant: Grant, *, bound_units: bool) -> exp.Select:
    """The dataset as the contract lets the consumer see it."""
    columns: list[exp.Expr] = []
    for name in grant.columns:
        col = exp.column(name, quoted=True)
        method = grant.masks.get(name)
        if method == "hash":
            # A keyed hash (the key is the dataset's secret, never shown): equal values stay
            # equal, so counting distinct values still works, but the value is gone.
            keyed = exp.DPipe(
                this=exp.Literal.string(grant.mask_key), expression=exp.cast(col, "VARCHAR")
            )
            columns.append(exp.func("sha256", keyed).as_(name, quoted=True))
        elif method == "mask":
            text = exp.cast(col, "VARCHAR")
            masked = exp.DPipe(
                this=exp.func("left", text, exp.Literal.number(1)),
                expression=exp.func(
                    "repeat",
                    exp.Literal.string("*"),
                    exp.func(
                        "greatest",
                        exp.Sub(this=exp.func("length", text), expression=exp.Literal.number(1)),
                        exp.Literal.number(0),
                    ),
                ),
            )
            columns.append(masked.as_(name, quoted=True))
        else:
            columns.append(col)
    view = exp.select(*columns).from_(exp.to_identifier(grant.source, quoted=True))
    if grant.row_filter:
        view = view.where(sqlglot.parse_one(grant.row_filter, read="duckdb"))
    units = units_of(grant)
    if bound_units and units:
        # Contribution bounding: one row per privacy unit, a different one at random for
        # every query (engines refuse a volatile window order, so the order is a hash of the
        # row under a fresh random salt).
        salt = exp.Literal.string(SALT)
        row = [exp.column(c, quoted=True) for c in sorted(grant.all_columns)]
        order = exp.Window(
            this=exp.RowNumber(),
            partition_by=[exp.column(u, quoted=True) for u in units],
            order=exp.Order(expressions=[exp.Ordered(this=exp.func("hash", salt, *row))]),
        )
        view = view.qualify(exp.LTE(this=order, expression=exp.Literal.number(1)))
    return view


def _replace_tables(tree: exp.Expr, grants: dict[str, Grant], *, bound_units: bool) -> exp.Expr:
    out = tree.copy()
    for table in list(out.find_all(exp.Table)):
        grant = grants.get(table.name)
        if grant is None:
            continue  # a CTE
        alias = table.alias_or_name
        table.replace(
            _policy_view(grant, bound_units=bound_units).subquery(
                exp.to_identifier(alias, quoted=True)
            )
        )
    return out
