"""Docs that cannot drift: every CLI command, setting and API route is documented."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from yaosu.api import create_app
from yaosu.cli import app as cli_app
from yaosu.kernel.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
API_DOC = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


def cli_commands() -> list[str]:
    def walk(prefix: str, command: object) -> list[str]:
        subs = getattr(command, "commands", None)
        if not subs:
            return [prefix]
        return [c for name, sub in subs.items() for c in walk(f"{prefix} {name}", sub)]

    return walk("yaosu", typer.main.get_command(cli_app))


def test_readme_starts_with_the_two_commands() -> None:
    head = README[:600]
    assert "make demo" in head and "make test" in head


def test_every_cli_command_is_in_the_readme() -> None:
    commands = cli_commands()
    assert len(commands) >= 6
    missing = [c for c in commands if f"`{c}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme() -> None:
    missing = [
        f"YAOSU_{name.upper()}"
        for name in Settings.model_fields
        if f"YAOSU_{name.upper()}" not in README
    ]
    assert missing == []


def test_every_api_route_is_in_docs_api(tmp_path: Path) -> None:
    spec = create_app(Settings(home=tmp_path / "h")).openapi()
    documented = set(re.findall(r"\| (GET|POST|PATCH|PUT|DELETE) \| `([^`]+)`", API_DOC))
    routes = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert routes - documented == set(), "routes missing from docs/api.md"
    assert documented - routes == set(), "docs/api.md lists routes that do not exist"


def test_every_package_is_in_the_readme_layout() -> None:
    """The layout section names every top-level package and every package inside the kernel."""
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    src = ROOT / "src" / "yaosu"
    packages = [p.name for p in src.iterdir() if (p / "__init__.py").exists()]
    packages += [p.name for p in (src / "kernel").iterdir() if (p / "__init__.py").exists()]
    missing = [name for name in packages if f" {name}/" not in layout]
    assert missing == []
