"""The process-wide objects the CLI needs: settings, database, object store."""

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


def open_context(*, migrate: bool = True) -> Context:
    settings = get_settings()
    db = Database(settings)
    if migrate:
        db.upgrade()
    store = ObjectStore(settings.data_dir)
    store.sweep_tmp()
    for prepare in ON_OPEN:
        prepare(settings)
    return Context(settings, db, store)
