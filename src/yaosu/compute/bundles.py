"""An algorithm bundle: a zip of Python files and ``algorithm.json``, checked and hashed.

``algorithm.json`` declares the entry point (``module:function``, taking the job's input
tables as ``dict[str, pyarrow.Table]`` and its parameters as a ``dict``), the runtime (one of
the platform's, ``sandbox.RUNTIMES``), the output kinds it may produce, and the parameter
schema (JSON Schema, Draft 2020-12, checked with ``jsonschema``: the job's parameters are
validated against it before anything runs).

The bundle's SHA-256 does not depend on how it was zipped: it hashes a canonical JSON
(RFC 8785) of the declaration and of every file's path and SHA-256, sorted. A provider
trusts that hash; a job runs only files whose bytes still hash to what was filed
(``verify``), so a file changed in the store is found before it runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import rfc8785

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _

MAX_BUNDLE_BYTES = 5 * 2**20  # zipped
MAX_UNZIPPED_BYTES = 20 * 2**20
MAX_FILES = 200
OUTPUT_KINDS = ("table", "statistics", "metrics", "report", "model")
RUNTIMES = ("python3.11-scientific",)  # the names ``sandbox.RUNTIMES`` provides
_PATH = re.compile(r"^(?:[A-Za-z0-9_\-]+/){0,4}[A-Za-z0-9_\-]+\.(?:py|json|txt|md|csv)$")
_ENTRY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
DECLARED = {"entry", "runtime", "outputs", "parameters", "description"}


@dataclass(frozen=True)
class Bundle:
    entry: str
    runtime: str
    outputs: tuple[str, ...]
    parameters: dict[str, Any]
    description: str
    files: dict[str, bytes]  # path -> content
    sha256: str

    def file_list(self) -> list[dict[str, Any]]:
        return [
            {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)}
            for p, b in sorted(self.files.items())
        ]


def digest(declaration: dict[str, Any], files: list[dict[str, Any]]) -> str:
    """The bundle's hash: its declaration and its files' paths and hashes, canonical JSON.

    >>> d = {"entry": "m:run", "runtime": "python3.11-scientific", "outputs": ["table"],
    ...      "parameters": {}, "description": ""}
    >>> digest(d, [{"path": "m.py", "sha256": "0" * 64}])[:12]
    'b6aa92258be1'
    """
    doc: Any = {
        "declaration": {k: declaration[k] for k in sorted(DECLARED)},
        "files": sorted([f["path"], f["sha256"]] for f in files),
    }
    return hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


def parse(data: bytes) -> Bundle:
    """A bundle from the bytes of its zip; every problem is an ``InvalidInput`` that names it,
    and nothing is extracted to disk (the files are read into memory, bounded)."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise InvalidInput(
            problem=_("an algorithm bundle is at most {mb} MB zipped", mb=MAX_BUNDLE_BYTES >> 20)
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InvalidInput(problem=_("the algorithm bundle is not a zip file")) from exc
    if len(infos) > MAX_FILES:
        raise InvalidInput(problem=_("an algorithm bundle holds at most {n} files", n=MAX_FILES))
    files: dict[str, bytes] = {}
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode) or not _PATH.match(info.filename):
            raise InvalidInput(
                problem=_(
                    "{path}: a bundle holds only .py, .json, .txt, .md and .csv files under "
                    "plain folder names (no links, no absolute paths, no ..)",
                    path=info.filename[:200],
                )
            )
        total += info.file_size
        if total > MAX_UNZIPPED_BYTES:
            raise InvalidInput(
                problem=_(
                    "the algorithm bundle unzips to more than {mb} MB",
                    mb=MAX_UNZIPPED_BYTES >> 20,
                )
            )
        try:
            with archive.open(info) as fh:
                content = fh.read(MAX_UNZIPPED_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            raise InvalidInput(
                problem=_("{path} cannot be read from the bundle", path=info.filename)
            ) from exc
        if len(content) != info.file_size:  # a header that lies about the size
            raise InvalidInput(problem=_("{path} is damaged in the bundle", path=info.filename))
        files[info.filename] = content
    if "algorithm.json" not in files:
        raise InvalidInput(problem=_("the bundle has no algorithm.json at its top"))
    declaration = declare(files.pop("algorithm.json"))
    module = declaration["entry"].split(":")[0].replace(".", "/")
    if f"{module}.py" not in files and f"{module}/__init__.py" not in files:
        raise InvalidInput(
            problem=_("the entry point's module {module} is not in the bundle", module=module)
        )
    for path, content in files.items():
        if path.endswith(".py"):
            try:
                compile(content, path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as exc:
                raise InvalidInput(
                    problem=_("{path} is not valid Python: {error}", path=path, error=str(exc))
                ) from exc
    listed = [
        {"path": p, "sha256": hashlib.sha256(b).hexdigest()} for p, b in sorted(files.items())
    ]
    return Bundle(
        entry=declaration["entry"],
        runtime=declaration["runtime"],
        outputs=tuple(declaration["outputs"]),
        parameters=declaration["parameters"],
        description=declaration["description"],
        files=files,
        sha256=digest(declaration, listed),
    )


def declare(raw: bytes) -> dict[str, Any]:
    """``algorithm.json``, checked: the entry, runtime, outputs and parameter schema."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(problem=_("algorithm.json is not UTF-8 JSON")) from exc
    if not isinstance(doc, dict):
        raise InvalidInput(problem=_("algorithm.json is a JSON object"))
    unknown = sorted(set(doc) - DECLARED - {"name", "version"})
    if unknown:
        raise InvalidInput(problem=_("algorithm.json: unknown keys {keys}", keys=unknown))
    entry = doc.get("entry")
    if not isinstance(entry, str) or not _ENTRY.match(entry):
        raise InvalidInput(problem=_("algorithm.json: entry is module:function, e.g. forecast:run"))
    runtime = doc.get("runtime", RUNTIMES[0])
    if runtime not in RUNTIMES:
        raise InvalidInput(
            problem=_(
                "algorithm.json: runtime {runtime} is not one of the platform's: {known}",
                runtime=str(runtime)[:60],
                known=list(RUNTIMES),
            )
        )
    outputs = doc.get("outputs")
    if (
        not isinstance(outputs, list)
        or not outputs
        or any(o not in OUTPUT_KINDS for o in outputs)
        or len(set(outputs)) != len(outputs)
    ):
        raise InvalidInput(
            problem=_(
                "algorithm.json: outputs lists the kinds it produces, from {kinds}",
                kinds=list(OUTPUT_KINDS),
            )
        )
    parameters = doc.get("parameters", {"type": "object"})
    if not isinstance(parameters, dict):
        raise InvalidInput(problem=_("algorithm.json: parameters is a JSON Schema object"))
    try:
        jsonschema.Draft202012Validator.check_schema(parameters)
    except jsonschema.SchemaError as exc:
        raise InvalidInput(
            problem=_("algorithm.json: the parameter schema is invalid: {error}", error=exc.message)
        ) from exc
    description = doc.get("description", "")
    if not isinstance(description, str) or len(description) > 4000:
        raise InvalidInput(
            problem=_("algorithm.json: description is text, at most 4000 characters")
        )
    return {
        "entry": entry,
        "runtime": runtime,
        "outputs": sorted(outputs, key=OUTPUT_KINDS.index),
        "parameters": parameters,
        "description": description,
    }


def check_params(schema: dict[str, Any], params: Any) -> dict[str, Any]:
    """A job's parameters, validated against the algorithm's schema (every error named)."""
    if not isinstance(params, dict):
        raise InvalidInput(problem=_("a job's parameters are a JSON object"))
    if len(json.dumps(params, ensure_ascii=False)) > 64_000:
        raise InvalidInput(problem=_("a job's parameters are at most 64 KB of JSON"))
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(params), key=lambda e: list(e.path)
    )
    if errors:
        problems = [
            f"{'/'.join(str(p) for p in e.path) or '(root)'}: {e.message}" for e in errors[:10]
        ]
        raise InvalidInput(
            problem=_("the parameters do not fit the algorithm's schema: {errors}", errors=problems)
        )
    return params


def verify(files: list[dict[str, Any]], folder: Path) -> str | None:
    """``None`` when every file in ``folder`` still hashes to what was filed; else the first
    path that differs (a tampered algorithm never runs)."""
    for f in files:
        path = folder / f["path"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != f["sha256"]:
            return str(f["path"])
    return None


def zip_folder(folder: Path) -> bytes:
    """A bundle's zip from a folder (the CLI's ``--folder`` and the demo's algorithms)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return out.getvalue()
