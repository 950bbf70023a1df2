"""One calling convention for the domains' functions (README, "Layout").

- A function that works in the caller's transaction takes the ``Session`` first; one that runs
  a whole operation, opening its own transactions, takes the ``Context`` first and is named
  ``run_*`` (a background task's handler: ``*_job``).
- ``actor`` comes next, when there is one; every other parameter is keyword-only, so a call
  names what it passes (``get_version(session, actor, dataset_id=…, number=…)``), and the
  settings or the object store, when a function needs them, are named too.

Routes, pages and commands are the edges that open a request's transaction; the policy
rules keep the decision function's own signature.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "yaosu"
DOMAINS = (
    "access",
    "accounts",
    "audit",
    "authorization",
    "catalog",
    "inbox",
    "market",
    "privacy",
    "rights",
    "tasks",
)
EDGES = {"routes.py", "pages.py", "cli.py", "unit_routes.py", "unit_cli.py"}
FIRST = ("session", "ctx")


def _functions() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for domain in DOMAINS:
        for path in sorted((SRC / domain).rglob("*.py")):
            if path.name in EDGES or "policy" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                    found.append((f"{path.relative_to(SRC)}:{node.lineno} {node.name}", node))
    return found


def _opens_transactions(fn: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in ("transaction", "begin")
        for n in ast.walk(fn)
    )


def _positional(fn: ast.FunctionDef) -> list[str]:
    return [a.arg for a in fn.args.posonlyargs + fn.args.args]


def test_only_the_session_or_context_and_the_actor_are_positional() -> None:
    wrong = []
    for where, fn in _functions():
        names = _positional(fn)
        if not names or names[0] not in (*FIRST, "db"):
            continue  # a pure function, or a factory of the settings (a signer, an engine)
        allowed = [names[0]] + (["actor"] if names[1:2] == ["actor"] else [])
        if names[0] not in FIRST or names != allowed:
            wrong.append(f"{where}({', '.join(names)}, ...)")
    assert not wrong, "keyword-only after the session or context and actor:\n" + "\n".join(wrong)


def test_only_whole_operations_open_transactions() -> None:
    wrong = []
    for where, fn in _functions():
        names = _positional(fn)
        whole = fn.name.startswith("run_") or fn.name.endswith("_job")
        if _opens_transactions(fn) and not whole:
            wrong.append(f"{where}: opens a transaction; name it run_* or take the session")
        if whole and names[:1] != ["ctx"]:
            wrong.append(f"{where}: a whole operation takes the Context first")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_what_it_judges() -> None:
    """The walk finds the domains' functions, among them the known shapes of both kinds."""
    found = {fn.name: fn for _, fn in _functions()}
    assert len(found) > 80
    assert _positional(found["get_version"]) == ["session", "actor"]
    assert _positional(found["run_ingest"]) == ["ctx", "actor"]
    assert _opens_transactions(found["run_ingest"])
    assert not _opens_transactions(found["get_version"])
