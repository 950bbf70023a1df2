"""Alembic environment: the engine comes from ``yaosu.kernel.db.alembic_config``.

On SQLite a batch operation rebuilds a table (create, copy, drop, rename), and dropping a
table other rows refer to fails while foreign keys are enforced. As Alembic's documentation
advises, enforcement is off while migrations run (the pragma only takes effect outside a
transaction) and the whole database is checked before it is turned back on: a migration that
left a dangling reference fails, and its transaction is rolled back.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from yaosu.kernel.db import Base
from yaosu.models import load_all

load_all()
target_metadata = Base.metadata
engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"


def _pragma(connection: object, value: str) -> None:
    """On the DB-API connection itself: through SQLAlchemy it would begin a transaction."""
    cursor = connection.connection.cursor()  # type: ignore[attr-defined]
    cursor.execute(f"PRAGMA foreign_keys={value}")  # a constant, never input
    cursor.close()


with engine.connect() as connection:
    if sqlite:
        _pragma(connection, "OFF")
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            context.run_migrations()
            if sqlite:
                dangling = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
                if dangling:
                    raise RuntimeError(f"a migration left dangling references: {dangling[:5]}")
    finally:
        if sqlite:
            _pragma(connection, "ON")
