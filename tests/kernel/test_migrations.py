"""Migrations build the schema on both backends, match the models, and go down cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from yaosu.context import Context
from yaosu.kernel.db import Base, Database, alembic_config
from yaosu.kernel.settings import Settings
from yaosu.models import load_all


def test_upgrade_matches_models_and_downgrade_empties(empty_ctx: Context) -> None:
    empty_ctx.db.upgrade()
    load_all()
    with empty_ctx.db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == [], f"models and migrations disagree: {diff}"
    tables = set(inspect(empty_ctx.db.engine).get_table_names())
    assert {
        "organisations",
        "users",
        "api_tokens",
        "datasets",
        "dataset_versions",
        "audit_entries",
    } <= tables
    empty_ctx.db.upgrade()  # idempotent
    command.downgrade(alembic_config(empty_ctx.db.engine), "base")
    assert set(inspect(empty_ctx.db.engine).get_table_names()) <= {"alembic_version"}


def test_embedded_default_is_sqlite_in_wal_mode_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    assert settings.db_url == f"sqlite:///{tmp_path / 'h' / 'yaosu.db'}"
    db = Database(settings)
    db.upgrade()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_production_needs_an_explicit_database() -> None:
    with pytest.raises(ValueError, match="YAOSU_DATABASE_URL"):
        Settings(env="production")
