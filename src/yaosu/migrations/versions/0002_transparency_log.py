"""transparency log: leaf indices, stored tree, checkpoints, witnesses

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_entries", "audit_tree")


def upgrade() -> None:
    op.create_table(
        "audit_tree",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree")),
    )
    op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_state")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_witnesses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vkey", sa.String(length=300), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_audit_witnesses_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_witnesses")),
        sa.UniqueConstraint("name", name=op.f("uq_audit_witnesses_name")),
    )
    with op.batch_alter_table("audit_witnesses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_witnesses_org_id"), ["org_id"], unique=False)
    op.create_table(
        "audit_cosignatures",
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False),
        sa.Column("witness_id", sa.String(length=40), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_size"],
            ["audit_checkpoints.size"],
            name=op.f("fk_audit_cosignatures_checkpoint_size_audit_checkpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"],
            ["audit_witnesses.id"],
            name=op.f("fk_audit_cosignatures_witness_id_audit_witnesses"),
        ),
        sa.PrimaryKeyConstraint(
            "checkpoint_size", "witness_id", name=op.f("pk_audit_cosignatures")
        ),
    )

    _drop_append_only(("audit_entries",))
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
    _backfill()
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("leaf_index", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_entries_leaf_index"), ["leaf_index"])
    _append_only(APPEND_ONLY)


def _backfill() -> None:
    """Entries written before the log existed become its first leaves, in storage order.
    Uses the log's own canonical form and tree code: they must never change anyway."""
    from sqlalchemy.orm import Session

    from yaosu.audit import log
    from yaosu.audit.models import AuditEntry

    session = Session(bind=op.get_bind())
    state = log.lock_state(session)
    nodes: list[dict[str, object]] = []
    frontier: list[str] = []
    index = 0
    for entry in session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)):
        grown, frontier = log._grow(index, log.leaf_hash(log.canonical(entry)), frontier)
        nodes.extend({"level": lv, "idx": ix, "hash": h.hex()} for lv, ix, h in grown)
        op.execute(
            sa.text("UPDATE audit_entries SET leaf_index = :i WHERE seq = :s").bindparams(
                i=index, s=entry.seq
            )
        )
        index += 1
    if nodes:
        op.bulk_insert(
            sa.table("audit_tree", sa.column("level"), sa.column("idx"), sa.column("hash")), nodes
        )
    state.size, state.frontier = index, frontier
    session.flush()


def _append_only(tables: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        else:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()"
            )


def _drop_append_only(tables: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


def downgrade() -> None:
    _drop_append_only(APPEND_ONLY)
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_entries_leaf_index"), type_="unique")
        batch_op.drop_column("leaf_index")
    _append_only(("audit_entries",))
    op.drop_table("audit_cosignatures")
    with op.batch_alter_table("audit_witnesses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_witnesses_org_id"))
    op.drop_table("audit_witnesses")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_log_state")
    op.drop_table("audit_tree")
