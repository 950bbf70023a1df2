"""ACRO's disclosure rules for tables of aggregates, cell by cell, on the evidence the
harness writes beside each cell (``_n`` records, the two largest contributions ``_max1`` and
``_max2``, the cell's ``_total``).

The rules and their arithmetic follow ACRO 1.0.2 (``acro/sdcchecks.py``), so a table gets the
same cells flagged as ACRO's ``crosstab``/``pivot_table`` would flag:

- threshold: a cell of fewer than ``min_cell`` records (``count < safe_threshold``); ACRO
  counts empty cells here too, we report them under ``zeros`` instead;
- zeros: a cell of no records, when zeros are disclosive (``zeros_are_disclosive``);
- n, k dominance: the ``n`` largest contributions make ``k`` or more of the total
  (``top_n_sum / sum >= safe_nk_k``); not defined, and reviewed, where contributions are
  negative, as ACRO does;
- p-ratio: what the others contribute is less than ``p`` of the largest
  (``(sum - top1 - top2) / top1 < safe_pratio_p``): the second contributor, subtracting its
  own, could estimate the largest within p.

Each is a "review" finding with the number of cells, as ACRO says a cell "may need
suppressing": a person decides. A table without the evidence fails (``kind``): no evidence,
no check, no release.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yaosu.compute.checks.rules import Finding, Rules
from yaosu.kernel.i18n import Message, _

CONTRIBUTIONS = ("_max1", "_max2", "_total")
EVIDENCE = ("_n", *CONTRIBUTIONS)  # the harness's columns beside each cell, stripped on release
_SLACK = 1e-9  # float sums: a rest this far below zero is rounding, not a negative value


def statistics(output: str, table: pa.Table, *, rules: Rules) -> list[Finding]:
    """The disclosure findings for one statistics table."""
    problem = _evidence_problem(table)
    if problem is not None:
        return [Finding("kind", "fail", output, problem)]
    n = np.asarray(pc.fill_null(pc.cast(table.column("_n"), pa.int64()), 0))
    findings = []

    def review(check: str, mask: np.ndarray, message: Message) -> None:
        cells = int(mask.sum())
        if cells:
            findings.append(Finding(check, "review", output, message, cells))

    small = (n > 0) & (n < rules.min_cell)
    review(
        "min_cell",
        small,
        _(
            "{cells} cells count fewer than {min} records (the threshold rule)",
            cells=int(small.sum()),
            min=rules.min_cell,
        ),
    )
    if rules.zeros_disclosive:
        zero = n == 0
        review(
            "zeros",
            zero,
            _(
                "{cells} cells count no record: an empty cell can disclose that nobody in a"
                " group has an attribute",
                cells=int(zero.sum()),
            ),
        )
    if not set(CONTRIBUTIONS) <= set(table.column_names):
        return findings
    first, second, total = (
        np.asarray(pc.fill_null(pc.cast(table.column(c), pa.float64()), 0.0)) for c in CONTRIBUTIONS
    )
    present = n > 0
    rest = total - first - second
    negative = present & (
        (first < 0) | (second < 0) | (rest < -_SLACK * np.maximum(np.abs(total), 1.0))
    )
    review(
        "dominance",
        negative,
        _(
            "{cells} cells have negative contributions, where dominance is not defined",
            cells=int(negative.sum()),
        ),
    )
    judged = present & ~negative & (total > 0)
    top = first + second if rules.dominance_n == 2 else first
    with np.errstate(divide="ignore", invalid="ignore"):
        dominated = judged & (top / np.where(judged, total, 1.0) >= rules.dominance_k)
        ratio = np.maximum(rest, 0.0) / np.where(first > 0, first, 1.0)
    review(
        "dominance",
        dominated,
        _(
            "in {cells} cells the largest {n} contributions make {k} or more of the total"
            " (the n, k dominance rule)",
            cells=int(dominated.sum()),
            n=rules.dominance_n,
            k=f"{rules.dominance_k:.0%}",
        ),
    )
    exposed = judged & (first > 0) & (ratio < rules.p_ratio)
    review(
        "p_ratio",
        exposed,
        _(
            "in {cells} cells the contributions after the two largest make less than {p} of"
            " the largest (the p-ratio rule): the second largest contributor could estimate it",
            cells=int(exposed.sum()),
            p=f"{rules.p_ratio:.0%}",
        ),
    )
    return findings


def _evidence_problem(table: pa.Table) -> Message | None:
    """Why the table cannot be checked, if it cannot."""
    names = set(table.column_names)
    if "_n" not in names:
        return _("a statistics table needs the number of records behind each cell, in _n")
    count = table.column("_n")
    if (
        not pa.types.is_integer(count.type)
        or count.null_count
        or (len(count) and (pc.min(count).as_py() or 0) < 0)
    ):
        return _("_n holds the number of records behind each cell: whole numbers, 0 or more")
    given = names & set(CONTRIBUTIONS)
    if given and given != set(CONTRIBUTIONS):
        return _("a statistics table with contributions needs _max1, _max2 and _total together")
    for column in sorted(given):
        values = table.column(column)
        kind = values.type
        number = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        if not (number or pa.types.is_decimal(kind)) or (
            pa.types.is_floating(kind) and pc.any(pc.is_nan(values)).as_py()
        ):
            # NaN compares false with every threshold: such a cell would pass unjudged
            return _("{column} holds numbers (no NaN)", column=column)
    return None
