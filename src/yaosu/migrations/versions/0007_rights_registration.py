"""rights registration

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "right_grants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("object_version", sa.Integer(), nullable=False),
        sa.Column("object_sha256", sa.String(length=64), nullable=False),
        sa.Column("holder_org_id", sa.String(length=40), nullable=False),
        sa.Column("grantor_org_id", sa.String(length=40), nullable=True),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("territory", sa.String(length=100), nullable=False),
        sa.Column("starts_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grantor_org_id"],
            ["organisations.id"],
            name=op.f("fk_right_grants_grantor_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["holder_org_id"],
            ["organisations.id"],
            name=op.f("fk_right_grants_holder_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["right_grants.id"], name=op.f("fk_right_grants_parent_id_right_grants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_right_grants")),
    )
    with op.batch_alter_table("right_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_right_grants_holder_org_id"), ["holder_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_right_grants_object_id"), ["object_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_right_grants_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_right_grants_status"), ["status"], unique=False)

    op.create_table(
        "right_registrations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("grant_id", sa.String(length=40), nullable=False),
        sa.Column("applicant_org_id", sa.String(length=40), nullable=False),
        sa.Column("applied_by", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("notice_starts_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notice_ends_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("registered_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["applicant_org_id"],
            ["organisations.id"],
            name=op.f("fk_right_registrations_applicant_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["right_grants.id"],
            name=op.f("fk_right_registrations_grant_id_right_grants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_right_registrations")),
        sa.UniqueConstraint("code", name=op.f("uq_right_registrations_code")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_right_registrations_grant_id")),
    )
    with op.batch_alter_table("right_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_right_registrations_applicant_org_id"),
            ["applicant_org_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_right_registrations_status"), ["status"], unique=False)

    op.create_table(
        "right_certificates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("registration_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("issued_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["right_registrations.id"],
            name=op.f("fk_right_certificates_registration_id_right_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_right_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_right_certificates_code")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_right_certificates_registration_id")),
    )
    op.create_table(
        "right_objections",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("registration_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_right_objections_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["right_registrations.id"],
            name=op.f("fk_right_objections_registration_id_right_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_right_objections")),
    )
    with op.batch_alter_table("right_objections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_right_objections_registration_id"), ["registration_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("right_objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_right_objections_registration_id"))

    op.drop_table("right_objections")
    op.drop_table("right_certificates")
    with op.batch_alter_table("right_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_right_registrations_status"))
        batch_op.drop_index(batch_op.f("ix_right_registrations_applicant_org_id"))

    op.drop_table("right_registrations")
    with op.batch_alter_table("right_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_right_grants_status"))
        batch_op.drop_index(batch_op.f("ix_right_grants_parent_id"))
        batch_op.drop_index(batch_op.f("ix_right_grants_object_id"))
        batch_op.drop_index(batch_op.f("ix_right_grants_holder_org_id"))

    op.drop_table("right_grants")
