"""contracts name their datasets by aliases

Governed SQL may name a dataset by a readable alias its contract defines (``FROM 参保人员``).
Each access request and each contract gets ``aliases`` ({alias: dataset id}); rows made
before this revision are backfilled with the defaults, each dataset's title made into an SQL
identifier (``authorization.aliases.default_aliases``), so every existing contract can be
queried by name at once; ``ds_…`` ids keep working as before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yaosu.authorization.aliases import default_aliases

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("access_requests", "contracts")


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch copy of access_requests would trip the
    # foreign keys of its reviews on SQLite. The server default '{}' stays (it is what the
    # model's default writes anyway).
    for name in TABLES:
        op.add_column(
            name, sa.Column("aliases", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    datasets = sa.table("datasets", sa.column("id", sa.String()), sa.column("title", sa.String()))
    titles = dict(bind.execute(sa.select(datasets.c.id, datasets.c.title)).all())
    for name in TABLES:
        table = sa.table(
            name,
            sa.column("id", sa.String()),
            sa.column("datasets", sa.JSON()),
            sa.column("aliases", sa.JSON()),
        )
        for row_id, used in bind.execute(sa.select(table.c.id, table.c.datasets)).all():
            named = {d: titles.get(d, d) for d in used or {}}
            bind.execute(
                table.update().where(table.c.id == row_id).values(aliases=default_aliases(named))
            )


def downgrade() -> None:
    for name in TABLES:
        op.drop_column(name, "aliases")  # SQLite has DROP COLUMN since 3.35
