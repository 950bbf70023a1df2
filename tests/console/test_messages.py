"""Every message a template or module uses is in a Chinese catalog; no text is hard-coded."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract

from yaosu.kernel.i18n import catalog_paths, read_catalog

SRC = Path(__file__).resolve().parents[2] / "src" / "yaosu"


def used_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(SRC.glob("*/templates/*.html")):
        with path.open("rb") as fh:
            for lineno, message, _, _ in extract("jinja2.ext.babel_extract", fh):
                found.setdefault(
                    message if isinstance(message, str) else message[0], f"{path.name}:{lineno}"
                )
    for path in sorted(SRC.glob("**/*.py")):
        with path.open("rb") as fh:
            for lineno, message, _, _ in extract("python", fh, keywords={"_": None, "N_": None}):
                found.setdefault(
                    message if isinstance(message, str) else message[0], f"{path.name}:{lineno}"
                )
    return found


def test_the_chinese_catalog_has_every_message() -> None:
    translated = {m.id: m.string for p in catalog_paths() for m in read_catalog(p) if m.id}
    used = used_messages()
    assert len(used) > 100
    missing = {m: where for m, where in used.items() if not translated.get(m)}
    assert missing == {}, f"add these to the package's locale/zh_CN catalog: {missing}"


def test_templates_hold_no_hard_coded_chinese() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for path in sorted(SRC.glob("*/templates/*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            outside = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", line)
            outside = outside.replace('<span lang="zh">要素</span>', "")  # the logo is a name
            if 'class="lang"' in line:
                continue  # a language's own name ("中文") is never translated
            assert not cjk.search(outside), f"{path.name}:{number}: {line.strip()}"
