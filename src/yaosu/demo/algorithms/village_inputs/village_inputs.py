"""村级农资需求统计与下月预测: demand for agricultural inputs per village and category (or per
calendar month too), summarised with the number of records behind each cell, and next
month's demand as a linearly weighted mean of the last months. Runs inside Yaosu's sandbox
on the contract's policy view; only its checked outputs leave."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from yaosu_job import progress, summarise

DEMAND = "需求量(吨)"


def run(inputs: dict[str, pa.Table], params: dict[str, Any]) -> dict[str, Any]:
    frame = pd.concat([t.to_pandas() for t in inputs.values()], ignore_index=True)
    if params.get("category"):
        frame = frame[frame["品类"] == params["category"]]
    keys = ["村", "品类", "月份"] if params.get("by_month") else ["村", "品类"]
    progress(0.3, "summarising")
    cells = summarise(frame, by=keys, value=DEMAND)
    months = int(params.get("months", 3))
    weights = np.arange(1, months + 1, dtype=float)
    progress(0.7, "forecasting")
    rows = []
    for (village, category), group in frame.groupby(["村", "品类"]):
        recent = group.sort_values("年月")[DEMAND].to_numpy()[-months:]
        w = weights[-len(recent) :]
        # in whole kilograms: a forecast is not one of the records' values (tons, two decimals)
        kilograms = round(1000 * float(recent @ w / w.sum()))
        rows.append({"村": village, "品类": category, "下月预测(公斤)": kilograms})
    total = float(frame[DEMAND].sum())
    report = (
        f"# 村级农资需求统计\n\n共 {frame['村'].nunique()} 个村、{len(cells)} 个汇总单元格，"
        f"需求量合计 {total:,.0f} 吨。下月预测采用近 {months} 个月的线性加权平均。\n"
    )
    return {
        "statistics": {"demand": cells},
        "tables": {"forecast": pd.DataFrame(rows)},
        "metrics": {"cells": len(cells), "total_tons": round(total, 1)},
        "report": report,
    }
