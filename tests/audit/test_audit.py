"""The audit call: same transaction as the change, append-only, no personal information."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import actor
from yaosu.audit.models import AuditEntry
from yaosu.audit.service import record, request_hash
from yaosu.catalog import service as catalog
from yaosu.catalog.schemas import DatasetCreate
from yaosu.context import Context
from yaosu.kernel.db import Database


def count(db: Database) -> int:
    with db.transaction() as session:
        return len(list(session.scalars(select(AuditEntry.seq))))


def test_entry_commits_and_rolls_back_with_the_change(ctx: Context) -> None:
    before = count(ctx.db)
    bureau = actor(ctx, "bureau-admin")
    with pytest.raises(RuntimeError), ctx.db.transaction() as session:
        catalog.create_dataset(session, bureau, data=DatasetCreate(title="回滚", theme="测试"))
        raise RuntimeError("crash after the change")
    assert count(ctx.db) == before
    with ctx.db.transaction() as session:
        ds = catalog.create_dataset(session, bureau, data=DatasetCreate(title="提交", theme="测试"))
    assert count(ctx.db) == before + 1
    with ctx.db.transaction() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None
    assert (entry.action, entry.object_id, entry.actor_id, entry.decision) == (
        "dataset.create",
        ds.id,
        bureau.id,
        "allow",
    )
    assert entry.object_org_id == bureau.org_id and len(entry.request_hash) == 64


def test_audit_table_refuses_update_and_delete(ctx: Context) -> None:
    for statement in ("UPDATE audit_entries SET action = 'x'", "DELETE FROM audit_entries"):
        with pytest.raises(DBAPIError), ctx.db.transaction() as session:
            session.execute(text(statement))
    assert count(ctx.db) > 0


def test_request_hash_is_canonical() -> None:
    assert request_hash({"b": 1, "a": "农"}) == request_hash({"a": "农", "b": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})


def test_ingest_entries_hold_hashes_not_personal_information(ctx: Context) -> None:
    from yaosu.catalog.models import DatasetVersion
    from yaosu.lineage.models import LineageEvent

    with ctx.db.transaction() as session:
        entries = list(session.scalars(select(AuditEntry)))
        versions = len(list(session.scalars(select(DatasetVersion.id))))
        lineage = [e.event for e in session.scalars(select(LineageEvent))]
    import json
    import re

    from stdnum.cn import ric

    def text(value: object) -> str:  # as a person reads it: escaped Chinese is no digit run
        return json.dumps(value, ensure_ascii=False, default=str)

    blob = " ".join(f"{e.reason} {text(e.detail)} {e.object_id}" for e in entries)

    # The demo holds 2,000 resident ID numbers; none may reach the audit log, nor the lineage
    # (a run of 18 digits is one only if it is a valid number: a filing number's digits,
    # 网信算备36010020260001号, are not).
    def ids(found: str) -> list[str]:
        return [m for m in re.findall(r"\d{17}[\dX]", found) if ric.is_valid(m)]

    assert ids(blob) == []
    assert lineage and ids(text(lineage)) == []
    version_entries = [e for e in entries if e.action == "dataset.version.create"]
    assert len(version_entries) == versions  # one for each version, uploaded or derived
    assert all(len(e.detail["sha256"]) == 64 for e in version_entries)


def test_audit_api_scopes_entries_to_the_organisation(app_client, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import auth

    everything = app_client.get(
        "/api/v1/audit?limit=500", headers=auth(ctx, "cac-inspector")
    ).json()
    coop = app_client.get("/api/v1/audit?limit=500", headers=auth(ctx, "coop-manager")).json()
    coop_org = actor(ctx, "coop-manager").org_id
    assert everything["total"] > coop["total"] > 0
    assert all(coop_org in (e["actor_org_id"], e["object_org_id"]) for e in coop["items"])
    filtered = app_client.get(
        "/api/v1/audit?action=dataset.create", headers=auth(ctx, "platform-admin")
    ).json()
    from yaosu.catalog.models import Dataset

    with ctx.db.transaction() as session:
        made = len(list(session.scalars(select(Dataset.id))))
    assert filtered["total"] == made and {e["action"] for e in filtered["items"]} == {
        "dataset.create"
    }
    assert app_client.get("/api/v1/audit").status_code == 401


def test_record_can_be_called_directly(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        entry = record(
            session,
            actor(ctx, "bureau-admin"),
            action="test.event",
            object_type="dataset",
            object_id="ds_x",
            request={"k": 1},
        )
        assert entry.leaf_index > 0 and entry.action == "test.event"
