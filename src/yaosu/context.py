"""The process-wide objects the CLI needs: settings, database, object store."""

from __future__ import annotations

from dataclasses import dataclass

from yaosu.kernel.db import Database
from yaosu.kernel.settings import Settings, get_settings
from yaosu.kernel.storage import ObjectStore


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
    from yaosu.audit.transparency import log_signer

    log_signer(settings)  # the log's signing key exists from the first start
    return Context(settings, db, store)
