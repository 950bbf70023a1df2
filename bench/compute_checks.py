"""Output checks: Yaosu's statistics-table checks against ACRO 1.0.2 (the SACRO project's
output checker), on the same cross-tabulations, in one run.

Data: a source table of ``--rows`` records (1,000,000 by default) with two categorical
variables ``a`` and ``b`` and a magnitude ``v`` (lognormal, like sales), for each crosstab
shape in ``--shapes`` (rows x columns of the table: 10x30, 100x100 and 300x300 by default,
300 to 90,000 cells). The first records enumerate every combination, so no cell is empty
(ACRO's ``crosstab`` shows empty cells, a group-by leaves them out); the last category of
``a`` is rare, so its cells count one record; a few cells get one contribution of a million,
so they are dominated. Both sides judge the cells with ACRO's default rules (threshold 10,
n = 2 and k = 0.9, p = 0.1) and the benchmark prints how many cells each flagged per rule:
they must agree.

The target (at least 10x faster) is the checks alone, building the table excluded on both
sides: ACRO's ``ACRO.crosstab(a, b, values=v, aggfunc="sum")`` minus plain
``pandas.crosstab`` of the same table, against ``check_outputs`` on the output folder (which
also runs the raw-row, raw-value and personal-information checks ACRO does not have). Like
for like with the table built on both sides is printed too: ACRO's whole call against
Yaosu's ``summarise`` (the in-sandbox helper an algorithm calls, pandas inside), the harness
writing the statistics table and its manifest, and ``check_outputs``. The job's
``InputIndex`` (built once per job, before the run) is timed apart. Each side runs in its own
child process, timed inside it, reading the data excluded; best of ``--repeat``.

ACRO lives in its own venv, ``bench/.peers/acro`` (``make bench`` builds it): it pins
``pandas<=2.3.3``, so it can never be a project dependency.

    python bench/compute_checks.py [--rows 1000000] [--shapes 10x30 100x100 300x300]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import HERE, machine, measure, stamp

ACRO = HERE / ".peers" / "acro"

YAOSU = r"""
import json, os, shutil, time
from pathlib import Path
import pyarrow.parquet as pq
from yaosu.compute import harness
from yaosu.compute.checks import InputIndex, Rules, check_outputs
p = json.loads(os.environ["CHECKS_BENCH"])
out = []
for case in p["cases"]:
    table = pq.read_table(case["data"])
    t = time.perf_counter()
    index = InputIndex.build({"source": table})
    best = {"index_s": time.perf_counter() - t}
    for r in range(p["repeat"]):
        folder = Path(p["work"]) / f"yaosu-{r}"
        folder.mkdir()
        t0 = time.perf_counter()
        cells = harness.summarise(table, ["a", "b"], "v")
        t1 = time.perf_counter()
        harness.write_outputs({"statistics": {"cells": cells}}, folder)
        t2 = time.perf_counter()
        report = check_outputs(folder, index=index, rules=Rules())
        t3 = time.perf_counter()
        shutil.rmtree(folder)
        for key, value in (("summarise_s", t1 - t0), ("write_s", t2 - t1), ("check_s", t3 - t2),
                           ("total_s", t3 - t0)):
            best[key] = min(best.get(key, value), value)
    flagged = {}
    for f in report.findings:
        flagged[f.check] = flagged.get(f.check, 0) + f.cells
    out.append(best | {"cells": len(cells), "flagged": flagged, "verdict": report.verdict})
print(json.dumps({"cases": out}))
"""

PEER = r"""
import json, logging, os, time
import numpy as np
import pandas as pd
import acro
logging.disable(logging.INFO)  # acro configures INFO logging for every call
p = json.loads(os.environ["CHECKS_BENCH"])
os.chdir(p["work"])
out = []
for case in p["cases"]:
    data = np.load(case["arrays"])  # ACRO's venv has no pyarrow: the same records as arrays
    df = pd.DataFrame({"a": data["a"].astype(object), "b": data["b"].astype(object), "v": data["v"]})
    best = {}
    for r in range(p["repeat"]):
        session = acro.ACRO(suppress=False)
        t0 = time.perf_counter()
        table = session.crosstab(df.a, df.b, values=df.v, aggfunc="sum")
        t1 = time.perf_counter()
        pd.crosstab(df.a, df.b, values=df.v, aggfunc="sum")
        t2 = time.perf_counter()
        for key, value in (("acro_s", t1 - t0), ("pandas_s", t2 - t1)):
            best[key] = min(best.get(key, value), value)
    record = list(session.results.results.values())[-1]
    out.append(best | {"cells": int(table.size), "flagged": record.sdc["summary"],
                       "status": record.status})
print(json.dumps({"cases": out}))
"""


def acro_python() -> str:
    python = ACRO / "bin" / "python"
    if (
        not python.exists()
        or subprocess.run([str(python), "-c", "import acro"], capture_output=True).returncode
    ):
        raise SystemExit(
            f"ACRO is not installed in {ACRO}: run `make bench` (it installs ACRO) first"
        )
    return str(python)


def source(path: Path, *, rows: int, shape: tuple[int, int], seed: int) -> dict[str, int]:
    """The records: every combination once, then random ones; the last category of ``a`` is
    rare; in a few cells one record contributes a million. Written as Parquet (``path``) and
    as NumPy arrays beside it (``.npz``)."""
    rng = np.random.default_rng(seed)
    na, nb = shape
    weights = np.ones(na)
    weights[-1] = 0.0  # the rare category: only the enumerated records, one a cell
    a = np.concatenate(
        [np.repeat(np.arange(na), nb), rng.choice(na, rows - na * nb, p=weights / weights.sum())]
    )
    b = np.concatenate([np.tile(np.arange(nb), na), rng.integers(0, nb, rows - na * nb)])
    v = rng.lognormal(3, 0.8, rows).round(2)
    dominated = rng.choice(na * nb - nb, size=5, replace=False)  # not in the rare row
    v[dominated] = 1_000_000.0
    labels = {"a": np.char.add("a", a.astype("U4")), "b": np.char.add("b", b.astype("U4"))}
    pq.write_table(pa.table({**labels, "v": v}), path)
    np.savez(path.with_suffix(".npz"), **labels, v=v)
    return {"rare_cells": nb, "dominated": len(dominated)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--shapes", nargs="+", default=["10x30", "100x100", "300x300"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    peer = acro_python()
    version = subprocess.run(
        [peer, "-c", "from importlib.metadata import version as v; print(v('acro'), v('pandas'))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="yaosu-checks-bench-"))
    try:
        cases, planted = [], []
        for text in args.shapes:
            na, nb = (int(x) for x in text.split("x"))
            path = work / f"source-{na}x{nb}.parquet"
            planted.append(source(path, rows=args.rows, shape=(na, nb), seed=args.seed))
            cases.append(
                {"data": str(path), "arrays": str(path.with_suffix(".npz")), "shape": [na, nb]}
            )
        params = {"cases": cases, "repeat": args.repeat, "work": str(work)}
        env = {"CHECKS_BENCH": json.dumps(params)}
        ours = measure(YAOSU, env=env)
        theirs = measure(PEER, env=env | {"PYTHONWARNINGS": "ignore"}, python=peer)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours_cases, theirs_cases = ours["cases"], theirs["cases"]

    print(
        f"# output checks benchmark, {stamp()}, {machine()}, load average {load[0]:.1f} at the"
        f" start, {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"ACRO {version[0]}, pandas {version[1]} (peer venv); {args.rows:,} source records,"
        f" best of {args.repeat}; Yaosu = summarise + write + check_outputs, ACRO ="
        f" ACRO.crosstab(values, aggfunc='sum')"
    )
    print(
        "| crosstab | cells | Yaosu s (summarise + write + check) | ACRO s (crosstab + checks) |"
        " ACRO / Yaosu | Yaosu checks s | ACRO checks s | checks ratio | index build s |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    checks = []
    for case, y, a, plant in zip(cases, ours_cases, theirs_cases, planted, strict=True):
        acro_checks = a["acro_s"] - a["pandas_s"]
        shape = "x".join(str(n) for n in case["shape"])
        print(
            f"| {shape} | {y['cells']:,} | {y['total_s']:.3f} ({y['summarise_s']:.3f} +"
            f" {y['write_s']:.3f} + {y['check_s']:.3f}) | {a['acro_s']:.2f} |"
            f" {a['acro_s'] / y['total_s']:.0f}x | {y['check_s']:.3f} | {acro_checks:.2f} |"
            f" {acro_checks / y['check_s']:.0f}x | {y['index_s']:.2f} |"
        )
        mine, peer_flags = y["flagged"], a["flagged"]
        agree = (
            mine.get("min_cell", 0) + mine.get("zeros", 0) == peer_flags["MinimumThresholdCheck"]
            and mine.get("dominance", 0) == peer_flags["NKCheck"]
            and mine.get("p_ratio", 0) == peer_flags["PPercentCheck"]
        )
        print(
            f"  {shape}: flagged cells, Yaosu {mine} ({y['verdict']}), ACRO {peer_flags}"
            f" ({a['status']}); planted {plant}"
        )
        checks += [
            (f"{shape}: the same cells flagged per rule", agree),
            (
                f"{shape}: checks at least 10x faster (building the table excluded on both sides)",
                acro_checks >= 10 * y["check_s"],
            ),
        ]
    print(f"peak RSS Yaosu {ours['peak_mb']:.0f} MB, ACRO {theirs['peak_mb']:.0f} MB")
    for label, ok in checks:
        print(f"target, {label}: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
