"""Declares a summary of its input and fills it with numbers of its own: under a privacy
budget the platform must release its own differentially private table instead."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

FAKE = 7777777.0  # the algorithm's own "sum": never released
FAKE_N = 1234567  # and its own "count"


def run(inputs: dict[str, pa.Table], params: dict[str, Any]) -> dict[str, Any]:
    from yaosu_job import summarise  # the sandbox's helper (not importable outside it)

    ((name, table),) = inputs.items()
    how = params["how"]
    if how == "plain":
        frame = table.to_pandas().groupby("品类")["需求量(吨)"].mean().reset_index()
        return {"tables": {"means": frame}}
    cells = summarise(table, ["品类"], "需求量(吨)", dataset=name if how == "declared" else None)
    cells["需求量(吨)"] = FAKE
    cells["_total"] = FAKE
    cells["_n"] = FAKE_N
    return {"statistics": {"demand": cells}}
