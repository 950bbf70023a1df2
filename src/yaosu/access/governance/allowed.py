"""What a governed query may hold: allow-lists of sqlglot node kinds (an allow-list, not a
deny-list: anything not named here is refused)."""

from __future__ import annotations

from sqlglot import exp

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
# Comparisons and logic: what a filter is made of, in either kind of query.
PREDICATES = (
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
    *PREDICATES,
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
    *PREDICATES,
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

# The scalar functions above as a user writes them in DuckDB's dialect (for messages).
ALLOWED_FUNCTIONS = (
    "abs, round, floor, ceil, sign, coalesce, nullif, greatest, least, if, CASE, try_cast, "
    "lower, upper, length, substring, trim, left, right, concat, strpos, date_trunc, year, "
    "month, day, extract"
)
