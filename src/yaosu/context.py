"""The process-wide objects every entry point needs: settings, database, object store.

Kernel-level: it imports no domain. Start-up work that needs a domain (the audit log's
signing key) is done by the composition layer, ``yaosu.api`` and ``yaosu.cli``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from yaosu.kernel.db import Database
from yaosu.kernel.settings import Settings, get_settings
from yaosu.kernel.storage import ObjectStore

# What must exist from the first start, made each time a context opens. The command line's
# composition root (``yaosu.cli``) registers the audit log's signing key here: this module,
# like the kernel, knows no domain.
ON_OPEN: list[Callable[[Settings], object]] = []


@dataclass
class Context:
    settings: Settings
    db: Database
    store: ObjectStore


def open_context(
    settings: Settings | None = None, *, migrate: bool = False, check_schema: bool = True
) -> Context:
    """The context for ``settings`` (default: the environment's). ``migrate`` applies the
    migrations first; otherwise, with ``check_schema``, a database that is not at the code's
    head is refused (``SchemaBehind``) rather than migrated as a side effect."""
    settings = settings or get_settings()
    db = Database(settings)
    try:
        if migrate:
            db.upgrade()
        elif check_schema:
            db.require_head()
    except BaseException:
        db.dispose()
        raise
    store = ObjectStore(settings.data_dir)
    store.sweep_tmp()
    return Context(settings, db, store)
