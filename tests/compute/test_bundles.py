"""Algorithm bundles: what a zip may hold, the declaration, the hash, the parameter schema."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.compute.conftest import BUNDLE, bundle_bytes
from yaosu.compute import bundles
from yaosu.kernel.errors import InvalidInput

DECLARATION = json.loads((BUNDLE / "algorithm.json").read_text(encoding="utf-8"))


def _zip(files: dict[str, bytes | str], *, order: list[str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in order or list(files):
            content = files[name]
            archive.writestr(name, content if isinstance(content, bytes) else content.encode())
    return out.getvalue()


def _good(**declaration: Any) -> dict[str, bytes | str]:
    return {
        "algorithm.json": json.dumps(DECLARATION | declaration),
        "village_inputs.py": (BUNDLE / "village_inputs.py").read_bytes(),
    }


def test_the_demo_bundle_parses_and_its_hash_ignores_how_it_was_zipped() -> None:
    parsed = bundles.parse(bundle_bytes())
    assert parsed.entry == "village_inputs:run" and "statistics" in parsed.outputs
    files = _good()
    again = bundles.parse(_zip(files, order=list(reversed(list(files)))))
    assert again.sha256 == parsed.sha256
    changed = bundles.parse(_zip(_good(description="另一个说明")))
    assert changed.sha256 != parsed.sha256  # the declaration is part of what is trusted


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"village_inputs.py": "x = 1"}, "algorithm.json"),
        ({**_good(), "../escape.py": "x = 1"}, "escape.py"),
        ({**_good(), "/etc/cron.py": "x = 1"}, "cron.py"),
        ({**_good(), "lib.so": b"\x7fELF"}, "lib.so"),
        ({**_good(), "broken.py": "def ("}, "broken.py"),
        (_good(entry="missing:run"), "missing"),
        (_good(entry="town_sales"), "module:function"),
        (_good(runtime="python2"), "python2"),
        (_good(outputs=["video"]), "outputs"),
        (_good(outputs=[]), "outputs"),
        (_good(parameters={"type": "no-such-type"}), "schema"),
        (_good(unexpected=1), "unexpected"),
        ({"algorithm.json": "{not json", "village_inputs.py": "x=1"}, "JSON"),
    ],
)
def test_a_bad_bundle_is_refused_with_the_problem_named(
    files: dict[str, bytes | str], problem: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        bundles.parse(_zip(files))
    assert problem in str(refused.value)


def test_not_a_zip_a_link_and_a_zip_bomb_are_refused() -> None:
    with pytest.raises(InvalidInput, match="zip"):
        bundles.parse(b"PK\x03\x04 not really")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in _good().items():
            archive.writestr(name, content)
        link = zipfile.ZipInfo("link.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(InvalidInput, match="link"):
        bundles.parse(out.getvalue())
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _good().items():
            archive.writestr(name, content)
        archive.writestr("data.csv", b"0" * (bundles.MAX_UNZIPPED_BYTES + 1))
    assert len(bomb.getvalue()) < bundles.MAX_BUNDLE_BYTES  # small zipped, huge unzipped
    with pytest.raises(InvalidInput, match="MB"):
        bundles.parse(bomb.getvalue())


def test_parameters_are_checked_against_the_schema() -> None:
    schema = bundles.parse(bundle_bytes()).parameters
    assert bundles.check_params(schema, {"months": 6}) == {"months": 6}
    for bad, where in (({"months": 0}, "months"), ({"extra": 1}, "extra"), ([], "object")):
        with pytest.raises(InvalidInput) as refused:
            bundles.check_params(schema, bad)
        assert where in str(refused.value)


def test_verify_finds_a_tampered_file(tmp_path: Path) -> None:
    parsed = bundles.parse(bundle_bytes())
    for path, content in parsed.files.items():
        (tmp_path / path).write_bytes(content)
    assert bundles.verify(parsed.file_list(), tmp_path) is None
    (tmp_path / "village_inputs.py").write_bytes(b"import os\nos.system('curl evil')\n")
    assert bundles.verify(parsed.file_list(), tmp_path) == "village_inputs.py"
