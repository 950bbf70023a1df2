"""Shared fixtures of the governed-use tests: the demo contract, and what it has spent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import dataset_id, demo_contract_id
from yaosu.access import service
from yaosu.authorization.models import Contract
from yaosu.context import Context


@pytest.fixture
def demo(ctx: Context) -> Iterator[tuple[Context, str, str]]:
    """The demo world, its contract (the cooperative's) and the residents' dataset."""
    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)
    yield ctx, str(contract), dataset_id(ctx, "参保人员")
    service.close_engines(ctx)


def spent(ctx: Context, contract: str) -> tuple[int, float]:
    """The contract's uses and ε spent so far."""
    with ctx.db.transaction() as session:
        row = session.get(Contract, contract)
        assert row is not None
        return row.uses, row.epsilon_spent
