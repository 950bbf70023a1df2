"""The output folder a job leaves, checked as a whole before any output is read, then each
output by its kind.

The in-sandbox harness writes the folder, so the checks hold it to the harness's layout
exactly: ``manifest.json`` (``{"outputs": [...], "harness": "yaosu-harness/1"}``) names every
output, and each kind lives in one place (``tables/<name>.parquet``,
``statistics/<name>.parquet``, ``metrics.json``, ``report.md``, ``model.bin``). Anything else
fails: a file the manifest does not name, a link (symbolic or hard), a device or pipe, a
folder other than ``tables/`` and ``statistics/``, a path that leaves the folder, a file that
does not parse. The folder's size and file count are checked first, from ``lstat`` alone,
and a Parquet file's decompressed size from its footer, so an oversized output is refused
without being read.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yaosu.compute.checks import disclosure, leaks
from yaosu.compute.checks import keys as k
from yaosu.compute.checks.index import InputIndex
from yaosu.compute.checks.rules import KINDS, Finding, Report, Rules
from yaosu.kernel.i18n import Message, _

HARNESS = "yaosu-harness/1"
MANIFEST = "manifest.json"
FOLDERS = ("tables", "statistics")
PLACES = {
    "table": ("tables/", ".parquet"),
    "statistics": ("statistics/", ".parquet"),
    "metrics": ("", "metrics.json"),
    "report": ("", "report.md"),
    "model": ("", "model.bin"),
}
NAME = re.compile(r"\w[\w.\-]{0,99}")  # letters (any script), digits, "_", "-", "."
EXPANSION = 4  # decompressed, the tables may take this many times max_output_bytes


@dataclass
class _Entry:
    """One output the manifest names, in its proper place."""

    name: str  # as the manifest gives it
    shown: str  # as findings show it: disclosive parts hidden
    kind: str
    file: str
    rows: int | None

    def public(self, files: dict[str, int]) -> dict[str, Any]:
        """The entry as the report gives it: a disclosive name hidden, its file with it."""
        return {
            "name": self.shown,
            "kind": self.kind,
            "file": self.file if self.shown == self.name else leaks.HIDDEN,
            "rows": self.rows,
            "bytes": files.get(self.file),
        }


@k.connection()
def check_outputs(output_dir: Path, *, index: InputIndex, rules: Rules, log: str = "") -> Report:
    """Every check on a job's output folder (and its log), as one report: ``fail`` when
    anything may never leave, ``review`` when a person must decide, else ``pass``."""
    root = Path(output_dir)
    _log, log_findings = leaks.check_log(log, index=index)
    if root.is_symlink() or not root.is_dir():
        missing = Finding("files", "fail", "", _("the output folder is missing, or is a link"), 1)
        return Report.of([missing, *log_findings], [])
    files, strange = _walk(root)
    findings = []
    if strange:
        message = _(
            "{cells} entries of the output folder are links, devices, pipes or folders the"
            " harness does not write: only plain files in tables/ and statistics/ may be there",
            cells=len(strange),
        )
        findings.append(Finding("files", "fail", "", message, len(strange)))
    total, count = sum(files.values()), len(files) + len(strange)
    if total > rules.max_output_bytes:
        message = _(
            "the outputs take {size} bytes; at most {max} may leave",
            size=total,
            max=rules.max_output_bytes,
        )
        findings.append(Finding("size", "fail", "", message, total))
    if count > rules.max_files:
        message = _(
            "the output folder holds {files} files; at most {max} may leave",
            files=count,
            max=rules.max_files,
        )
        findings.append(Finding("size", "fail", "", message, count))
    if any(f.check == "size" for f in findings):
        return Report.of(findings + log_findings, [])  # too large to read: refused unread
    outputs, problem = _manifest(root, files)
    if problem is not None:
        findings.append(Finding("files", "fail", "", problem, 1))
    names = [str(o.get("name", "")) for o in outputs]
    paths = [o["file"] for o in outputs if isinstance(o.get("file"), str)]
    everything = [*names, *paths, *sorted(set(files) - set(paths)), *strange]
    shown_list, name_findings = leaks.names(everything, index=index)
    shown = dict(zip(everything, shown_list, strict=True))
    findings += name_findings
    entries = []
    seen: set[str] = set()  # a table and a statistics table may share a name, not a file
    for output, name in zip(outputs, names, strict=True):
        problem = _entry_problem(output, name, files)
        identity = {f"{output.get('kind')}:{name}", f"file:{output.get('file')}"}
        if problem is None and identity & seen:
            problem = _("two outputs have the same name or file")
        if problem is not None:
            findings.append(Finding("files", "fail", shown[name], problem, 1))
            continue
        seen |= identity
        entries.append(
            _Entry(name, shown[name], output["kind"], output["file"], output.get("rows"))
        )
    for stray in sorted(set(files) - {e.file for e in entries} - {MANIFEST}):
        message = _("{path} is not an output the manifest names", path=shown[stray])
        findings.append(Finding("files", "fail", "", message, 1))
    budget = EXPANSION * rules.max_output_bytes
    for entry in entries:
        if entry.kind not in rules.kinds:
            message = (
                _("the contract does not allow models to leave")
                if entry.kind == "model"
                else _("the algorithm's filing does not declare {kind} outputs", kind=entry.kind)
            )
            findings.append(Finding("kind", "fail", entry.shown, message))
            continue
        path = root / entry.file
        if entry.kind in ("table", "statistics"):
            found, budget = _table(entry, path, budget, index=index, rules=rules)
            findings += found
        elif entry.kind == "metrics":
            findings += _metrics(entry, path, index=index)
        elif entry.kind == "report":
            findings += _report(entry, path, index=index)
        else:
            findings += _model(entry, path, index=index)
            message = _(
                "a person must review the model before it leaves: no automatic"
                " membership-inference test is run on it"
            )
            findings.append(Finding("model", "review", entry.shown, message))
    return Report.of(findings + log_findings, [e.public(files) for e in entries])


def _walk(root: Path) -> tuple[dict[str, int], list[str]]:
    """Every plain file under the folder with its size, by lstat (nothing is followed), and
    everything else: links (symbolic or hard), devices, pipes, folders the harness does not
    write."""
    files: dict[str, int] = {}
    strange: list[str] = []

    def unreadable(error: OSError) -> None:  # a folder the walk cannot list is not passed
        strange.append(str(error.filename))

    for folder, dirs, names in os.walk(root, onerror=unreadable, followlinks=False):
        here = Path(folder).relative_to(root)
        for name in [*dirs, *names]:
            relative = (here / name).as_posix()
            info = os.lstat(Path(folder) / name)
            if stat.S_ISDIR(info.st_mode):
                if here != Path(".") or name not in FOLDERS:
                    strange.append(relative)
            elif stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                files[relative] = info.st_size
            else:
                strange.append(relative)
        dirs[:] = [d for d in dirs if here == Path(".") and d in FOLDERS]
    return files, strange


def _manifest(root: Path, files: dict[str, int]) -> tuple[list[dict[str, Any]], Message | None]:
    """The manifest's entries (objects), and what is wrong with the manifest as a whole."""
    if MANIFEST not in files:
        return [], _("the output folder has no manifest.json")
    try:
        doc = json.loads((root / MANIFEST).read_bytes())
    except (ValueError, OSError):
        doc = None
    outputs = doc.get("outputs") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("harness") != HARNESS or not isinstance(outputs, list):
        return [], _("manifest.json is not the harness's manifest ({harness})", harness=HARNESS)
    entries = [o for o in outputs if isinstance(o, dict)]
    if len(entries) != len(outputs):
        return entries, _("each output in manifest.json is an object")
    return entries, None


def _entry_problem(entry: dict[str, Any], name: str, files: dict[str, int]) -> Message | None:
    """What is wrong with one manifest entry, if anything."""
    kind, file, rows = entry.get("kind"), entry.get("file"), entry.get("rows")
    if not isinstance(entry.get("name"), str) or not NAME.fullmatch(name):
        return _(
            "an output's name is 1 to 100 letters, digits, '_', '-' or '.', and starts with a"
            " letter or digit"
        )
    if kind not in KINDS:
        return _("unknown output kind in manifest.json; the kinds are {kinds}", kinds=KINDS)
    if not isinstance(file, str):
        return _("an output names its file")
    path = PurePosixPath(file)
    if path.is_absolute() or "\\" in file or ".." in path.parts or path.as_posix() != file:
        return _("an output's file is outside the output folder")
    folder, suffix = PLACES[kind]
    expected = f"{folder}{name}{suffix}" if folder else suffix
    if file != expected:
        return _("a {kind} output is kept in {expected}", kind=kind, expected=expected)
    if file not in files:
        return _("the manifest names a file that is not there")
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
        return _("an output's rows are a whole number, 0 or more")
    return None


def _table(
    entry: _Entry, path: Path, budget: int, *, index: InputIndex, rules: Rules
) -> tuple[list[Finding], int]:
    """One Parquet output, read only when its footer shows it fits what is left of the
    decompressed budget. Returns its findings and the budget left."""
    unreadable = Finding(
        "files", "fail", entry.shown, _("the file is not a Parquet table that can be read")
    )
    try:
        table, size = _read(path, budget)
    except _Oversized:
        message = _(
            "the tables would take more than {max} bytes once decompressed",
            max=EXPANSION * rules.max_output_bytes,
        )
        return [Finding("size", "fail", entry.shown, message, 1)], 0
    except (pa.ArrowException, OSError, ValueError):
        return [unreadable], budget
    budget -= size
    findings = []
    if entry.rows is not None and entry.rows != table.num_rows:
        message = _(
            "manifest.json gives {rows} rows; the file has {actual}",
            rows=entry.rows,
            actual=table.num_rows,
        )
        findings.append(Finding("files", "fail", entry.shown, message, 1))
    if len(set(table.column_names)) != len(table.column_names):
        message = _("the table has two columns of the same name")
        return [*findings, Finding("files", "fail", entry.shown, message, 1)], budget
    nested = [f.name for f in table.schema if not k.flat(f.type)]
    if nested:
        message = _(
            "{cells} columns hold nested or binary values: only numbers, text, dates and"
            " booleans are checked, so only they may leave",
            cells=len(nested),
        )
        findings.append(Finding("kind", "fail", entry.shown, message, len(nested)))
    statistics = entry.kind == "statistics"
    _shown, named = leaks.names(table.column_names, index=index, output=entry.shown)
    findings += named
    if statistics:
        findings += disclosure.statistics(entry.shown, table, rules=rules)
    names, cells, texts, written = leaks.cell_keys(table)
    findings += leaks.raw_rows(entry.shown, names, cells, index=index, statistics=statistics)
    findings += leaks.raw_values(entry.shown, texts, written, index=index)
    findings += leaks.personal(entry.shown, table.select(names), statistics=statistics)
    return findings, budget


class _Oversized(Exception):
    """A table that would not fit the decoded budget (raised before it is decoded)."""


def _read(path: Path, budget: int) -> tuple[pa.Table, int]:
    """A Parquet table and its decoded size, read so that it cannot take more memory than
    ``budget``: text is read dictionary-encoded (as the file stores it) and its decoded size
    computed from the dictionary before anything is decoded; a value repeated a million times
    compresses to nothing on disk."""
    with pq.ParquetFile(path) as parquet:
        meta, schema = parquet.metadata, parquet.schema_arrow
    if meta.num_rows * max(1, meta.num_columns) * 8 > budget:
        raise _Oversized
    text = [f.name for f in schema if k.text_type(f.type)]
    # one file read as one file (pq.read_table's dataset reader mangles repeated names)
    with pq.ParquetFile(path, read_dictionary=text) as parquet:
        table = parquet.read()
    table.validate(full=True)  # e.g. text that is not UTF-8
    size = 0
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            for chunk in column.chunks:
                lengths = pc.binary_length(chunk.dictionary)
                size += (pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0) + 8 * len(chunk)
        else:
            size += column.nbytes
    if size > budget:
        raise _Oversized
    return table, size


def _metrics(entry: _Entry, path: Path, *, index: InputIndex) -> list[Finding]:
    """metrics.json: an object of finite numbers, its names and values searched as text."""
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, OSError):
        doc = None
    if not isinstance(doc, dict) or not all(
        not isinstance(v, bool)
        and (isinstance(v, int) or (isinstance(v, float) and math.isfinite(v)))
        for v in doc.values()
    ):
        message = _("metrics.json is an object of names and finite numbers")
        return [Finding("files", "fail", entry.shown, message, 1)]
    # an integer as written (an 18-digit identity number survives no float), a float as
    # canonical text reads it
    values = [
        str(v) if isinstance(v, int) else k.canonical(pa.array([v])).to_pylist()[0]
        for v in doc.values()
    ]
    text = "\n".join([*doc, *values])
    return leaks.text_leaks(entry.shown, _("metrics.json"), text, index=index)


def _report(entry: _Entry, path: Path, *, index: InputIndex) -> list[Finding]:
    """report.md: UTF-8 text, searched whole."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (UnicodeDecodeError, OSError):
        return [Finding("files", "fail", entry.shown, _("report.md is not UTF-8 text"), 1)]
    return leaks.text_leaks(entry.shown, _("the report"), text, index=index)


MODEL_WIDE_SCAN_BYTES = 64 * 2**20


def _model(entry: _Entry, path: Path, *, index: InputIndex) -> list[Finding]:
    """model.bin: whatever its format, the text inside it is searched like a report's, so a
    model that carries identifying values or input rows (a pickled frame, a fitted encoder's
    categories, a nearest-neighbour model's rows) fails. Text is read as UTF-8 and, for a
    model up to ``MODEL_WIDE_SCAN_BYTES``, as UTF-16 and UTF-32 at every alignment (NumPy
    keeps strings as UTF-32). A membership-inference test (sacroml) is not run: the package
    is not in the registries this platform installs from, so a person reviews every model."""
    try:
        data = path.read_bytes()
    except OSError:
        return [Finding("files", "fail", entry.shown, _("the model cannot be read"), 1)]
    texts = [data.decode("utf-8", errors="replace")]
    if len(data) <= MODEL_WIDE_SCAN_BYTES:
        for codec, width in (("utf-16-le", 2), ("utf-32-le", 4)):
            for offset in range(width):
                end = offset + (len(data) - offset) // width * width
                texts.append(data[offset:end].decode(codec, errors="replace"))
    found: list[Finding] = []
    for text in texts:
        found += leaks.text_leaks(entry.shown, _("the model"), text, index=index)
    return found
