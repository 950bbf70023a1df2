"""Fixtures of the audit tests."""

from __future__ import annotations

import pytest

from yaosu.context import Context


@pytest.fixture
def paused_schedule(ctx: Context) -> None:
    """The server signs no checkpoint of its own during the test: for tests that assert what
    "the latest checkpoint" is, which a scheduled one landing mid-test would change. (Tests
    that can ask for a checkpoint by its size do that instead.)"""
    ctx.settings = ctx.settings.model_copy(update={"audit_checkpoint_seconds": 0})
