"""The database kernel: one way to lock rows."""

from __future__ import annotations

from pathlib import Path

import yaosu

SRC = Path(yaosu.__file__).resolve().parent


def test_row_locks_go_through_locked() -> None:
    """``kernel.db.locked`` is the one place that asks for ``FOR UPDATE``: no caller checks
    the dialect first (SQLAlchemy already leaves the clause out where there are no row locks)."""
    found = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "with_for_update" in path.read_text(encoding="utf-8")
    ]
    assert found == ["kernel/db.py"]
