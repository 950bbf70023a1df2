"""Alembic environment: the engine comes from ``yaosu.kernel.db.alembic_config``."""

from __future__ import annotations

from alembic import context

from yaosu.kernel.db import Base
from yaosu.models import load_all

load_all()
target_metadata = Base.metadata
engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
