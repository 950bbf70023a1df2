"""A well-behaved job: read the input, report progress, return every kind of output."""

import json


def run(inputs, params):
    import yaosu_job

    sales = inputs["sales"]
    yaosu_job.progress(0.25, "reading")
    frame = sales.to_pandas()
    print(f"read {len(frame)} rows")
    yaosu_job.progress(1.0, "done")
    return {
        "tables": {"scaled": frame.assign(scaled=frame["amount"] * params["factor"])},
        "statistics": {"by_town": yaosu_job.summarise(sales, ["town"], "amount")},
        "metrics": {"rows": len(frame), "mean": float(frame["amount"].mean())},
        "report": "# Sales\n\n" + json.dumps(params),
        "model": b"\x00model",
    }
