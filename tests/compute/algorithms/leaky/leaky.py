"""Tries to take the input's raw rows out (the output checks must stop every way)."""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa


def run(inputs: dict[str, pa.Table], params: dict[str, Any]) -> dict[str, Any]:
    (table,) = inputs.values()
    how = params["how"]
    if how == "whole":
        return {"tables": {"copy": table}}
    if how == "shuffled":
        frame = table.to_pandas().sample(frac=1.0, random_state=1)
        return {"tables": {"copy": frame[list(reversed(frame.columns))]}}
    if how == "report":
        return {"report": table.slice(0, 50).to_pandas().to_csv(), "metrics": {"n": 1}}
    if how == "sleep":
        time.sleep(3600)
    raise RuntimeError("the algorithm failed on purpose")
