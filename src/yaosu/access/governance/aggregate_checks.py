"""Rules of aggregate-only and differentially private queries (checks only; the rewrite is
``aggregate_rewrite``). They accept one shape: a single dataset, a WHERE that compares
fields with constants, GROUP BY plain fields, and COUNT/SUM/AVG; the results are made safe
afterwards (group suppression or DP)."""

from __future__ import annotations

from sqlglot import exp

from yaosu.access.governance.allowed import AGGREGATES_DP, WHERE_AGGREGATE
from yaosu.access.governance.model import Aggregate, Grant
from yaosu.access.governance.refusals import refuse
from yaosu.access.governance.words import describe


def _why(dp: bool) -> tuple[str, str]:
    """Who asks for the shape, in words (Chinese, English)."""
    why = "仅限统计查询的授权" if not dp else "差分隐私查询"
    why_en = "an aggregate-only contract" if not dp else "a differentially private query"
    return why, why_en


def group_keys(tree: exp.Expr) -> list[exp.Expr]:
    group = tree.args.get("group")
    return [e for e in (group.expressions if group else [])]


def check_aggregate_shape(expression: exp.Expr, *, tables: list[str], dp: bool) -> exp.Expr:
    """Refuses what an aggregate-only query may not hold: set operations, subqueries, joins,
    computing filters, HAVING, DISTINCT, grouping by anything but a field.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT town, COUNT(*) FROM d GROUP BY town")
    >>> check_aggregate_shape(tree, tables=["d"], dp=False) is tree
    True
    >>> check_aggregate_shape(sqlglot.parse_one("SELECT COUNT(*) FROM d HAVING COUNT(*) > 1"), tables=["d"], dp=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.QueryRefused: ...
    """
    tree = expression
    why, why_en = _why(dp)
    if not isinstance(tree, exp.Select):
        raise refuse(f"{why}不允许集合运算", f"{why_en} allows no set operations")
    if any(tree.find_all(exp.CTE)) or any(tree.find_all(exp.Subquery)):
        raise refuse(f"{why}不允许子查询或公用表表达式", f"{why_en} allows no subqueries or CTEs")
    if list(tree.find_all(exp.Join)) or len(tables) != 1:
        raise refuse(
            f"{why}只能查询一个数据集，不允许连接", f"{why_en} reads one dataset, without joins"
        )
    where = tree.args.get("where")
    if where is not None:
        for node in where.walk():
            if not isinstance(node, WHERE_AGGREGATE):
                zh, en = describe(node)
                raise refuse(
                    f"{why}的筛选条件只能比较字段与常量（=、<>、<、>、BETWEEN、IN、LIKE、"
                    f"IS NULL，用 AND/OR/NOT 组合），不能含{zh}",
                    f"{why_en} filters by comparing fields with constants only (=, <>, <, >, "
                    f"BETWEEN, IN, LIKE, IS NULL, joined by AND, OR, NOT), not with {en}",
                )
    if tree.args.get("having") or tree.args.get("distinct"):
        raise refuse(
            f"{why}不允许 HAVING 或 DISTINCT（分组筛选由平台完成）",
            f"{why_en} allows no HAVING or DISTINCT (groups are filtered by the platform)",
        )
    for key in group_keys(tree):
        if not isinstance(key, exp.Column):
            raise refuse("只能按字段分组", "group by plain fields only")
    return expression


def aggregate_outputs(
    expression: exp.Expr, *, grant: Grant, dp: bool, bounds: dict[str, tuple[float, float]]
) -> list[Aggregate]:
    """What each output column is; refuses an output that is neither a grouping field nor
    COUNT, SUM or AVG of a plain field (with bounds under DP).

    >>> import sqlglot
    >>> grant = Grant("d", "s", {"town": "VARCHAR"}, frozenset({"town"}))
    >>> tree = sqlglot.parse_one("SELECT town, COUNT(*) AS n FROM d GROUP BY town")
    >>> [o.kind for o in aggregate_outputs(tree, grant=grant, dp=False, bounds={})]
    ['key', 'count']
    """
    tree = expression
    key_names = {k.name for k in group_keys(tree)}
    outputs: list[Aggregate] = []
    for projection in tree.expressions:
        inner = projection.unalias()
        name = projection.alias_or_name
        if isinstance(inner, exp.Column):
            if inner.name not in key_names:
                raise refuse(
                    f"输出必须是统计值或分组字段：{inner.name} 不是",
                    f"the output must be aggregates or grouping fields: {inner.name} is neither",
                    column=inner.name,
                )
            outputs.append(Aggregate(name, "key", inner.name))
            continue
        if not isinstance(inner, AGGREGATES_DP):
            raise refuse(
                f"输出必须是 COUNT、SUM、AVG 或分组字段：{projection.sql('duckdb')}",
                f"the output must be COUNT, SUM, AVG or grouping fields: {projection.sql('duckdb')}",
            )
        arg = inner.this
        if isinstance(arg, exp.Distinct):
            raise refuse("不允许 COUNT(DISTINCT …)", "COUNT(DISTINCT …) is not allowed")
        if isinstance(inner, exp.Count):
            outputs.append(
                Aggregate(name, "count", arg.name if isinstance(arg, exp.Column) else None)
            )
            continue
        if not isinstance(arg, exp.Column):
            raise refuse("SUM、AVG 只能作用于字段", "SUM and AVG take a plain field")
        if arg.name in grant.masks:
            raise refuse(
                f"遮蔽字段 {arg.name} 不能求和或平均",
                f"the masked field {arg.name} cannot be summed or averaged",
            )
        if dp and arg.name not in bounds:
            raise refuse(
                f"差分隐私求和须声明字段 {arg.name} 的取值范围（bounds）",
                f"a private sum or average needs bounds for {arg.name}",
                column=arg.name,
            )
        outputs.append(Aggregate(name, "sum" if isinstance(inner, exp.Sum) else "avg", arg.name))
    return outputs
