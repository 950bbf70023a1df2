"""The program that runs inside the sandbox, between the runner and an algorithm.

The runner copies this file twice into the job's private read-only folder ``/yaosu``: as
``harness.py``, the program it starts (``python -I /yaosu/harness.py module:function``), and as
``yaosu_job.py``, the helper module an algorithm imports (``summarise`` and ``progress``). One
file, because the helpers and the program must agree on the output contract, and the sandbox
has no Yaosu installed to import it from: the file depends on the runtime's pyarrow (and pandas
when the algorithm uses it), never on the rest of the project.

The harness reads every ``/inputs/<name>.parquet`` into a pyarrow Table, reads the parameters
from ``/yaosu/params.json``, calls ``function(inputs, params)`` and writes what it returns to
``/output`` with a ``manifest.json`` that lists each output. It accepts only the kinds of output
the output checks know how to judge, under names that are safe as file names; anything else is
refused with a message that says what to return instead.

Its exit code is how the runner tells the outcomes apart (``EXIT_*`` below); importing this
module outside the sandbox does nothing, so the runner takes the codes from here.
"""

from __future__ import annotations

import errno
import importlib
import json
import math
import numbers
import os
import re
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas
    import pyarrow

FORMAT = "yaosu-harness/1"
"""The manifest's ``harness`` field: the version of this output contract."""

STARTED = "##yaosu-harness started"
"""First line on stdout: the sandbox is up and the harness runs (the runner tells a sandbox
that failed to start from an algorithm that failed by it)."""

PROGRESS = "##yaosu-progress "
"""Prefix of a progress line on stdout, ``##yaosu-progress <fraction> <stage>``."""

EXIT_FAILED = 1  # the algorithm raised (or could not be imported): traceback on stderr
EXIT_REFUSED = 2  # the algorithm returned something the output contract does not allow
EXIT_MEMORY = 3  # MemoryError: an allocation went past the address-space limit
EXIT_TOO_LARGE = 4  # a file grew past the per-file size limit (EFBIG)

ALGORITHM = Path("/algorithm")
INPUTS = Path("/inputs")
OUTPUT = Path("/output")
HOME = Path("/yaosu")

KINDS = ("tables", "statistics", "metrics", "report", "model")
NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
CHECK_COLUMNS = ("_n", "_max1", "_max2", "_total")
"""Columns of a statistics table that the output checks read (records behind each cell; the
largest and second-largest contribution and the cell total, for magnitude tables) and strip
before release."""


class Refused(Exception):
    """The algorithm's result breaks the output contract; the message says what to change."""


def summarise(
    table: pyarrow.Table | pandas.DataFrame,
    by: list[str],
    value: str | None = None,
    *,
    dataset: str | None = None,
) -> pandas.DataFrame:
    """Group ``table`` by the ``by`` columns into a statistics table the output checks can
    judge: each cell's record count ``_n`` and, for a ``value``, its sum (under the value's
    name), the largest and second-largest contribution ``_max1`` and ``_max2`` (0 when the cell
    has one record) and the cell total ``_total``. Each record counts as one contributor:
    aggregate to one record per contributor first when a contributor has several.

    ``dataset``: the input (its name in ``inputs``) that ``table`` is, whole. The table then
    carries the declaration (``attrs["yaosu_summary"]``: the dataset, ``by``, ``value``),
    written to the manifest beside it; under a contract with a privacy budget the platform
    recomputes that aggregate from the granted input with differential privacy and releases
    its own table instead of this one (whose numbers never leave).

    >>> import pandas as pd
    >>> sales = pd.DataFrame({"town": ["a", "a", "b", "a"], "amount": [5, 3, 4, 1]})
    >>> summarise(sales, ["town"], "amount")
      town  amount  _n  _max1  _max2  _total
    0    a       9   3      5      3       9
    1    b       4   1      4      0       4
    >>> summarise(sales, ["town"])
      town  _n
    0    a   3
    1    b   1
    """
    if not by:
        raise ValueError("summarise: name at least one column to group by")
    if dataset is not None and not (isinstance(dataset, str) and NAME.fullmatch(dataset)):
        raise ValueError(f"summarise: dataset {dataset!r} is not the name of an input")
    columns = [*by, value] if value is not None else list(by)
    frame = table[columns] if _is_frame(table) else table.select(columns).to_pandas()
    groups = frame.groupby(by, dropna=False, observed=True, sort=True)
    if value is None:
        return _declared(groups.size().rename("_n").reset_index(), dataset, by, value)
    cells = groups[value].agg(["sum", "size", "max"])
    cells.columns = [value, "_n", "_max1"]
    # The second-largest contribution: sort once, take each group's second row (vectorised).
    ordered = frame.sort_values(value, ascending=False, kind="stable")
    second = ordered[ordered.groupby(by, dropna=False, observed=True).cumcount() == 1]
    cells["_max2"] = second.set_index(by)[value].reindex(cells.index).fillna(0)
    cells["_max2"] = cells["_max2"].astype(cells["_max1"].dtype)
    cells["_total"] = cells[value]
    return _declared(cells.reset_index(), dataset, by, value)


SUMMARY = "yaosu_summary"
"""The key, in a summarised DataFrame's ``attrs``, of what it aggregates."""


def _declared(
    frame: pandas.DataFrame, dataset: str | None, by: list[str], value: str | None
) -> pandas.DataFrame:
    if dataset is not None:
        frame.attrs[SUMMARY] = {"dataset": dataset, "by": list(by), "value": value}
    return frame


def progress(fraction: float, stage: str = "") -> None:
    """Tell the runner how far the job is (``fraction`` from 0 to 1, ``stage`` a few words);
    the line goes to stdout, where the runner reads it and keeps it out of the log.

    >>> progress(0.5, "fitting")
    ##yaosu-progress 0.5000 fitting
    """
    if not 0.0 <= fraction <= 1.0:  # also refuses NaN
        raise ValueError(f"progress: fraction {fraction!r} is not between 0 and 1")
    words = " ".join(stage.split())
    sys.stdout.write(f"{PROGRESS}{fraction:.4f} {words}\n")
    sys.stdout.flush()


def read_inputs(folder: Path) -> dict[str, pyarrow.Table]:
    """Every ``<name>.parquet`` in ``folder`` as a Table keyed by ``name``. pyarrow is imported
    only when there is something to read, and each file read as one file (``read_table`` would
    import pyarrow's dataset machinery, a fifth of a second of every job's start)."""
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return {}
    import pyarrow.parquet

    tables = {}
    for file in files:
        with pyarrow.parquet.ParquetFile(file) as parquet:
            tables[file.stem] = parquet.read()
    return tables


def write_outputs(result: object, folder: Path) -> list[dict[str, Any]]:
    """Check ``result`` against the output contract, write it to ``folder`` and return the
    manifest's entries. Everything is checked before anything is written, so a refused result
    leaves the folder as the algorithm left it."""
    if not isinstance(result, Mapping):
        raise Refused(f"the entry returned {type(result).__name__}; return a dict of outputs")
    unknown = sorted(str(key) for key in result if key not in KINDS)
    if unknown:
        raise Refused(
            f"unknown output kind(s) {', '.join(unknown)}; the kinds are {', '.join(KINDS)}"
        )
    leftovers = sorted(entry.name for entry in folder.iterdir())
    if leftovers:
        raise Refused(
            f"the algorithm wrote {', '.join(leftovers)} to {folder} itself; return outputs "
            "instead (and use /tmp for scratch files)"
        )
    tables = {name: _arrow(name, table) for name, table in _named(result, "tables").items()}
    statistics = {
        name: _statistics(name, _arrow(name, table))
        for name, table in _named(result, "statistics").items()
    }
    summaries = {
        name: _summary(name, table) for name, table in _named(result, "statistics").items()
    }
    metrics = {name: _metric(name, number) for name, number in _named(result, "metrics").items()}
    report = result.get("report")
    if report is not None and not isinstance(report, str):
        raise Refused(f"report is {type(report).__name__}; return the report as a str")
    model = result.get("model")
    if model is not None and not isinstance(model, bytes | bytearray | memoryview):
        raise Refused(f"model is {type(model).__name__}; return the model as bytes")

    entries: list[dict[str, Any]] = []
    if tables or statistics:
        import pyarrow.parquet
    for kind, subfolder, named in (
        ("table", "tables", tables),
        ("statistics", "statistics", statistics),
    ):
        if named:
            (folder / subfolder).mkdir()
        for name, table in named.items():
            file = f"{subfolder}/{name}.parquet"
            pyarrow.parquet.write_table(table, folder / file)
            entry = {"name": name, "kind": kind, "file": file, "rows": table.num_rows}
            if kind == "statistics" and summaries.get(name) is not None:
                entry["summary"] = summaries[name]
            entries.append(entry)
    if metrics:
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        entries.append({"name": "metrics", "kind": "metrics", "file": "metrics.json"})
    if report is not None:
        (folder / "report.md").write_text(report, encoding="utf-8")
        entries.append({"name": "report", "kind": "report", "file": "report.md"})
    if model is not None:
        (folder / "model.bin").write_bytes(bytes(model))
        entries.append({"name": "model", "kind": "model", "file": "model.bin"})
    manifest = {"outputs": entries, "harness": FORMAT}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return entries


def _named(result: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The ``kind`` entry of the result as a dict of well-named outputs."""
    named = result.get(kind) or {}
    if not isinstance(named, Mapping):
        raise Refused(f"{kind} is {type(named).__name__}; return a dict of name -> output")
    for name in named:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise Refused(
                f"{kind} name {name!r} is not allowed; use 1 to 64 letters, digits, _ or -"
            )
    return dict(named)


def _is_frame(table: object) -> bool:
    """A pandas DataFrame, asked without importing pandas (an algorithm that returns one has
    imported it already)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(table, pandas.DataFrame)


def _arrow(name: str, table: object) -> pyarrow.Table:
    """An output table as Arrow: a Table as is, a DataFrame converted (a meaningful index is
    kept as columns, a default one dropped)."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None and isinstance(table, arrow.Table):
        return table
    if not _is_frame(table):
        raise Refused(f"{name} is {type(table).__name__}; return a pyarrow Table or a DataFrame")
    import pyarrow

    try:
        return pyarrow.Table.from_pandas(table)
    except (pyarrow.ArrowException, ValueError, TypeError) as exc:
        raise Refused(f"{name} cannot be stored as Parquet: {exc}") from exc


def _statistics(name: str, table: pyarrow.Table) -> pyarrow.Table:
    """A statistics table must say how many records are behind each cell."""
    if "_n" not in table.column_names:
        raise Refused(
            f"statistics {name} has no _n column (records behind each cell); build it with "
            "yaosu_job.summarise"
        )
    return table


def _summary(name: str, table: object) -> dict[str, Any] | None:
    """What a statistics table from ``summarise`` declares it aggregates (None: nothing)."""
    declared = getattr(table, "attrs", {}).get(SUMMARY) if _is_frame(table) else None
    if declared is None:
        return None
    if not isinstance(declared, Mapping) or set(declared) != {"dataset", "by", "value"}:
        raise Refused(f"statistics {name} has a malformed {SUMMARY}; build it with summarise")
    return {"dataset": declared["dataset"], "by": list(declared["by"]), "value": declared["value"]}


def _metric(name: str, number: object) -> float | int:
    """A metric is one finite number (JSON has no NaN; a bool is not a measurement)."""
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise Refused(f"metric {name} is {type(number).__name__}; return a number")
    if not math.isfinite(number):
        raise Refused(f"metric {name} is {number}; return a finite number")
    return int(number) if isinstance(number, numbers.Integral) else float(number)


def _too_large(exc: OSError) -> bool:
    """EFBIG, also when pyarrow reports it in its own words (its OSError has no errno)."""
    return exc.errno == errno.EFBIG or "File too large" in str(exc)


def main(argv: list[str]) -> int:
    """Run the entry ``argv[0]`` (``module:function``) on the job's inputs; the exit code says
    how it ended."""
    print(STARTED, flush=True)
    try:
        module_name, _, function_name = argv[0].partition(":")
        params = json.loads((HOME / "params.json").read_text(encoding="utf-8"))
        sys.path[:0] = [str(ALGORITHM), str(HOME)]
        function = getattr(importlib.import_module(module_name), function_name)
        result = function(read_inputs(INPUTS), params)
        write_outputs(result, OUTPUT)
    except Refused as exc:
        print(f"yaosu: output refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except MemoryError:
        traceback.print_exc()
        return EXIT_MEMORY
    except OSError as exc:
        traceback.print_exc()
        return EXIT_TOO_LARGE if _too_large(exc) else EXIT_FAILED
    except BaseException:  # SystemExit and KeyboardInterrupt too: the entry must return
        traceback.print_exc()
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # every folder but /tmp and /output is read-only
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Not sys.exit: interpreter shutdown waits for the algorithm's non-daemon threads and runs its
    # atexit hooks; the job is over once the outputs are written.
    os._exit(code)
