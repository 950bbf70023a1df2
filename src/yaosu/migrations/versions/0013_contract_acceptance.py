"""contracts are accepted by both parties: the providers' acceptances and the consumer's

A contract made by the last approval now waits for its consumer to accept it (status
``offered``) and comes into force only then. Contracts made before this revision were in
force from their making, so they are backfilled as accepted then: the consumer's acceptance
by the user who submitted the request (an imported contract: by nobody named, at its import),
each provider's by its approving review.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APPROVALS = ("approved", "conditional")


def upgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "provider_acceptances", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )
        batch_op.add_column(sa.Column("accepted_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("accepted_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True)
        )
    _backfill()
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.alter_column("provider_acceptances", server_default=None)


def _backfill() -> None:
    bind = op.get_bind()
    when = yaosu.kernel.db.UTCDateTime(timezone=True)
    contracts = sa.table(
        "contracts",
        sa.column("id", sa.String()),
        sa.column("request_id", sa.String()),
        sa.column("provider_org_ids", sa.JSON()),
        sa.column("provider_acceptances", sa.JSON()),
        sa.column("accepted_by", sa.String()),
        sa.column("accepted_at", when),
        sa.column("starts_at", when),
        sa.column("created_at", when),
    )
    requests = sa.table("access_requests", sa.column("id"), sa.column("requested_by"))
    reviews = sa.table(
        "access_reviews",
        sa.column("request_id", sa.String()),
        sa.column("reviewer_org_id", sa.String()),
        sa.column("rule", sa.String()),
        sa.column("status", sa.String()),
        sa.column("decided_by", sa.String()),
        sa.column("decided_at", when),
    )
    rows = bind.execute(
        sa.select(
            contracts.c.id,
            contracts.c.request_id,
            contracts.c.provider_org_ids,
            contracts.c.starts_at,
            contracts.c.created_at,
            requests.c.requested_by,
        ).select_from(contracts.outerjoin(requests, requests.c.id == contracts.c.request_id))
    ).all()
    for cid, request_id, providers, starts_at, created_at, requested_by in rows:
        accepted: list[dict[str, Any]]
        if request_id is None:  # imported: an ODRL Agreement is both parties' acceptance
            accepted = [{"org": o, "by": None, "at": created_at.isoformat()} for o in providers]
        else:
            found = bind.execute(
                sa.select(reviews.c.reviewer_org_id, reviews.c.decided_by, reviews.c.decided_at)
                .where(
                    reviews.c.request_id == request_id,
                    reviews.c.rule.like("provider%"),
                    reviews.c.status.in_(APPROVALS),
                )
                .order_by(reviews.c.reviewer_org_id)
            ).all()
            accepted = [
                {"org": org, "by": by, "at": at.isoformat() if at else None}
                for org, by, at in found
            ]
        bind.execute(
            contracts.update()
            .where(contracts.c.id == cid)
            .values(
                provider_acceptances=accepted,
                accepted_by=requested_by,
                accepted_at=starts_at if request_id is not None else created_at,
            )
        )


def downgrade() -> None:
    # An offer not yet accepted cannot be expressed before this revision: it is revoked.
    op.execute("UPDATE contracts SET status = 'revoked' WHERE status IN ('offered', 'declined')")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("accepted_by")
        batch_op.drop_column("provider_acceptances")
