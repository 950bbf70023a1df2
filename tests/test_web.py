"""What every route shares (yaosu.web): a request's transaction commits before its answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.conftest import auth
from yaosu.catalog.models import Dataset
from yaosu.context import Context


@pytest.fixture
def failing_commit(ctx: Context) -> Iterator[None]:
    """Every commit of a transaction that wrote a dataset fails, as a lost connection or a
    serialisation failure would make it."""

    def flushed(session: Session, _context: Any, _instances: Any) -> None:
        if any(isinstance(o, Dataset) for o in session.new):
            session.info["wrote_dataset"] = True

    def committing(session: Session) -> None:
        if session.info.pop("wrote_dataset", False):
            raise OperationalError("COMMIT", {}, Exception("simulated commit failure"))

    event.listen(ctx.db.sessions, "before_flush", flushed)
    event.listen(ctx.db.sessions, "before_commit", committing)
    yield
    event.remove(ctx.db.sessions, "before_flush", flushed)
    event.remove(ctx.db.sessions, "before_commit", committing)


def test_a_write_whose_commit_fails_is_never_answered_as_done(
    app_client: TestClient, ctx: Context, failing_commit: None
) -> None:
    """The answer comes after the commit: a commit that fails is a 503, not a 201 for a
    dataset that does not exist (FastAPI's default ends a dependency after the response)."""
    headers = auth(ctx, "bureau-admin")
    got = app_client.post(
        "/api/v1/datasets", json={"title": "提交失败的数据集", "theme": "农业"}, headers=headers
    )
    assert got.status_code == 503, got.text
    assert got.json()["error"]["code"] == "BUSY"
    with ctx.db.transaction() as session:
        assert session.scalar(select(Dataset).where(Dataset.title == "提交失败的数据集")) is None
