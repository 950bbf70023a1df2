"""The authorization domain's shared vocabulary is defined once: the operations a contract
may permit, and the default purpose taxonomy (kept in step with the migration that seeds it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from yaosu.authorization import odrl
from yaosu.authorization.models import Purpose
from yaosu.authorization.operations import Operation
from yaosu.authorization.purposes import DEFAULT_PURPOSES
from yaosu.authorization.schemas import ContractPublic, RequestCreate, UseCreate
from yaosu.context import Context


def _enum(schema: dict[str, Any], field: str) -> list[str]:
    prop = schema["properties"][field]
    ref = prop.get("items", prop).get("$ref")
    assert ref, prop
    return list(schema["$defs"][ref.rsplit("/", 1)[1]]["enum"])


def test_the_operations_are_one_list_that_schemas_and_odrl_share() -> None:
    every = [o.value for o in Operation]
    assert every == ["aggregate", "extract", "compute", "download"]
    assert _enum(RequestCreate.model_json_schema(), "operations") == every
    assert _enum(UseCreate.model_json_schema(), "operation") == every
    assert _enum(ContractPublic.model_json_schema(), "operations") == every
    assert set(odrl.ACTIONS) == set(Operation)  # every operation has its ODRL action


def test_a_freshly_migrated_database_holds_the_default_purposes(empty_ctx: Context) -> None:
    """Migration 0006 seeds the taxonomy from its own frozen copy of DEFAULT_PURPOSES: the
    copy and the code must not drift apart."""
    empty_ctx.db.upgrade()
    with empty_ctx.db.transaction() as session:
        seeded = [
            (p.code, p.name_zh, p.name_en, p.pricing, p.description, p.active)
            for p in session.scalars(select(Purpose).order_by(Purpose.code))
        ]
    assert seeded == sorted((*p, "", True) for p in DEFAULT_PURPOSES)
