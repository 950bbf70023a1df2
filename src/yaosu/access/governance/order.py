"""ORDER BY, LIMIT and OFFSET of an aggregate query: read from the query, and applied by
the service to the released rows (never to the exact ones, whose order would leak what the
noise hides)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from yaosu.access.governance.model import Aggregate, Governed
from yaosu.access.governance.refusals import invalid
from yaosu.access.governance.words import snippet
from yaosu.kernel.i18n import _


def whole_number(node: exp.Expr | None, clause: str) -> int | None:
    if node is None:
        return None
    value = node.args.get("expression")
    if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
        return int(value.this)
    raise invalid(
        _("{clause} takes a whole number, for example {clause} 10", clause=clause),
    )


def released_order(
    tree: exp.Expr, outputs: list[Aggregate]
) -> tuple[list[tuple[int, bool, bool]], int | None, int]:
    """ORDER BY, LIMIT and OFFSET of an aggregate query, applied to the released rows (never
    to the exact ones, whose order would leak what the noise hides). ORDER BY names output
    columns: by alias, by position, or by repeating an output expression.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT town, COUNT(*) AS n FROM d GROUP BY town ORDER BY n DESC LIMIT 3")
    >>> released_order(tree, [Aggregate("town", "key", "town"), Aggregate("n", "count")])
    ([(1, True, False)], 3, 0)
    """
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
            raise invalid(
                _(
                    "ORDER BY in an aggregate query sorts by output columns ({names}): "
                    "{target} is not one",
                    names=list(names),
                    target=snippet(target),
                ),
            )
        desc = bool(ordered.args.get("desc"))
        nulls_first = bool(ordered.args.get("nulls_first"))
        order.append((index, desc, nulls_first))
    limit = whole_number(tree.args.get("limit"), "LIMIT")
    offset = whole_number(tree.args.get("offset"), "OFFSET") or 0
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
