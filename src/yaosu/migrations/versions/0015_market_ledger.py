"""the market's ledger: accounts, immutable transfers, settlement statements, payment
expectations and bank statement imports (issue 14). The database itself refuses a zero or
negative amount, a transfer from an account to itself, a "must not go negative" account below
zero and any UPDATE or DELETE of a transfer, a statement or an imported bank line.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_transfers", "ledger_statements", "ledger_bank_imports", "ledger_bank_lines")


def upgrade() -> None:
    op.create_table(
        "ledger_bank_imports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("layout", sa.String(length=10), nullable=False),
        sa.Column("encoding", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_bank_imports")),
        sa.UniqueConstraint("sha256", name=op.f("uq_ledger_bank_imports_sha256")),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("normal", sa.String(length=6), nullable=False),
        sa.Column("no_negative", sa.Boolean(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT no_negative OR (normal = 'credit' AND debits_pending + debits_posted <= credits_posted) OR (normal = 'debit' AND credits_pending + credits_posted <= debits_posted)",
            name=op.f("ck_ledger_accounts_no_negative"),
        ),
        sa.CheckConstraint("normal IN ('debit', 'credit')", name=op.f("ck_ledger_accounts_normal")),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0",
            name=op.f("ck_ledger_accounts_counters"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ledger_accounts_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("org_id", "code", "currency", name="uq_ledger_accounts_org_code"),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_accounts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "ledger_expectations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_ledger_expectations_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_expectations")),
        sa.UniqueConstraint("reference", name=op.f("uq_ledger_expectations_reference")),
    )
    with op.batch_alter_table("ledger_expectations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_expectations_org_id"), ["org_id"], unique=False)

    op.create_table(
        "ledger_statements",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("debits", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("postings", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("settled_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ledger_statements_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_statements")),
        sa.UniqueConstraint("number", name=op.f("uq_ledger_statements_number")),
        sa.UniqueConstraint("org_id", "period", name="uq_ledger_statements_period"),
    )
    with op.batch_alter_table("ledger_statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_statements_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_statements_period"), ["period"], unique=False)

    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("debit_account_id", sa.String(length=40), nullable=False),
        sa.Column("credit_account_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=True),
        sa.Column("pending_id", sa.String(length=40), nullable=True),
        sa.Column("reverses_id", sa.String(length=40), nullable=True),
        sa.Column("timeout_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'reversal') = (reverses_id IS NOT NULL)",
            name=op.f("ck_ledger_transfers_reverses"),
        ),
        sa.CheckConstraint(
            "(kind IN ('post', 'void')) = (pending_id IS NOT NULL)",
            name=op.f("ck_ledger_transfers_resolves_pending"),
        ),
        sa.CheckConstraint(
            "kind IN ('single', 'pending', 'post', 'void', 'reversal')",
            name=op.f("ck_ledger_transfers_kind"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_transfers_amount_positive")),
        sa.CheckConstraint(
            "debit_account_id <> credit_account_id", name=op.f("ck_ledger_transfers_two_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_credit_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_debit_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["pending_id"],
            ["ledger_transfers.id"],
            name=op.f("fk_ledger_transfers_pending_id_ledger_transfers"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_transfers.id"],
            name=op.f("fk_ledger_transfers_reverses_id_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfers")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_transfers_idempotency_key")),
        sa.UniqueConstraint("pending_id", name=op.f("uq_ledger_transfers_pending_id")),
    )
    with op.batch_alter_table("ledger_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_transfers_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_transfers_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_transfers_credit_account_id"), ["credit_account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_transfers_debit_account_id"), ["debit_account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_transfers_ref"), ["ref"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_transfers_reverses_id"), ["reverses_id"], unique=False
        )

    op.create_table(
        "ledger_bank_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("import_id", sa.String(length=40), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.Column("expectation_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("transfer_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_bank_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["expectation_id"],
            ["ledger_expectations.id"],
            name=op.f("fk_ledger_bank_lines_expectation_id_ledger_expectations"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["ledger_bank_imports.id"],
            name=op.f("fk_ledger_bank_lines_import_id_ledger_bank_imports"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfers.id"],
            name=op.f("fk_ledger_bank_lines_transfer_id_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_bank_lines")),
    )
    with op.batch_alter_table("ledger_bank_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_bank_lines_import_id"), ["import_id"], unique=False
        )

    _append_only()


def _append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return
    op.execute(
        "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
    with op.batch_alter_table("ledger_bank_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_bank_lines_import_id"))

    op.drop_table("ledger_bank_lines")
    with op.batch_alter_table("ledger_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_transfers_reverses_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_transfers_ref"))
        batch_op.drop_index(batch_op.f("ix_ledger_transfers_debit_account_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_transfers_credit_account_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_transfers_created_at"))
        batch_op.drop_index(batch_op.f("ix_ledger_transfers_batch_id"))

    op.drop_table("ledger_transfers")
    with op.batch_alter_table("ledger_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_statements_period"))
        batch_op.drop_index(batch_op.f("ix_ledger_statements_org_id"))

    op.drop_table("ledger_statements")
    with op.batch_alter_table("ledger_expectations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_expectations_org_id"))

    op.drop_table("ledger_expectations")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_accounts_org_id"))

    op.drop_table("ledger_accounts")
    op.drop_table("ledger_bank_imports")
