"""background jobs become tasks: the table ``jobs`` is renamed ``tasks``

The name "jobs" is left for compute jobs. The rows, columns and their values are unchanged;
the indexes and the primary key follow the naming convention of the new name.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXED = ("created_by", "object_id", "object_org_id", "status")


def _rename(old: str, new: str) -> None:
    op.rename_table(old, new)
    for column in INDEXED:
        op.drop_index(f"ix_{old}_{column}", table_name=new)
        op.create_index(f"ix_{new}_{column}", new, [column], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps no constraint names to rename
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")


def upgrade() -> None:
    _rename("jobs", "tasks")


def downgrade() -> None:
    _rename("tasks", "jobs")
