"""Fits a trivial model of demand: the mean and spread, packed as doubles; or keeps personal
information inside the model, as UTF-16 text, the way a fitted encoder keeps the categories it
saw (the output checks must find it)."""

from __future__ import annotations

import struct
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def run(inputs: dict[str, pa.Table], params: dict[str, Any]) -> dict[str, Any]:
    (table,) = inputs.values()
    demand = table.column("需求量(吨)")
    mean, spread = pc.mean(demand).as_py(), pc.stddev(demand).as_py()
    model = struct.pack("<2d", mean, spread)
    if params["how"] == "personal":
        model += "联系人 13912345678 身份证 11010519491231002X".encode("utf-16-le")
    return {"model": model, "metrics": {"mean": round(mean, 3), "rows": table.num_rows}}
