"""Import every domain's tables so the metadata is complete (for Alembic and tests)."""

from __future__ import annotations


def load_all() -> None:
    import yaosu.access.models
    import yaosu.accounts.models
    import yaosu.audit.models
    import yaosu.authorization.models
    import yaosu.catalog.models
    import yaosu.compute.models
    import yaosu.kernel.tasks.models
    import yaosu.lineage.models
    import yaosu.market.models
    import yaosu.privacy.models
    import yaosu.privacy.unit
    import yaosu.rights.models  # noqa: F401
