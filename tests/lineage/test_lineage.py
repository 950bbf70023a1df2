"""Lineage as OpenLineage run events, on both backends: every derivation (an upload, a
de-identification, an extract, a released answer, a product) is an event in the transaction of
the change, START/COMPLETE/FAIL share a run, a product's graph reaches back to the uploads
and organisations behind it, readers see only what concerns them, NDJSON and an endpoint get
the same events, and an exact row count behind a differentially private answer stays in."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.access.test_extracts import extract_contract
from tests.conftest import actor, auth, dataset_id, demo_contract_id
from yaosu.access import service as access
from yaosu.context import Context
from yaosu.lineage import service as lineage
from yaosu.lineage.models import LineageDataset, LineageEvent
from yaosu.market.models import Product

SPEC = "https://openlineage.io/spec/"


def events(ctx: Context, **where: Any) -> list[LineageEvent]:
    with ctx.db.transaction() as session:
        stmt = select(LineageEvent).order_by(LineageEvent.created_at, LineageEvent.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(LineageEvent, key) == value)
        found = list(session.scalars(stmt))
        session.expunge_all()
        return found


def assert_openlineage(doc: dict[str, Any]) -> None:
    """The fields the OpenLineage 2-0-2 RunEvent schema requires, and its facets' shape."""
    assert doc["eventType"] in ("START", "COMPLETE", "FAIL", "ABORT")
    assert doc["eventTime"][:4].isdigit() and "T" in doc["eventTime"]
    assert doc["producer"].startswith("https://")
    uuid.UUID(doc["run"]["runId"])
    assert doc["job"]["namespace"] == "yaosu" and doc["job"]["name"] in lineage.JOBS
    facets = [
        *doc["run"].get("facets", {}).values(),
        *doc["job"].get("facets", {}).values(),
        *(f for d in doc.get("inputs", []) + doc.get("outputs", []) for f in d["facets"].values()),
    ]
    assert facets
    for facet in facets:
        assert facet["_producer"].startswith("https://")
        assert facet["_schemaURL"].startswith((SPEC, lineage.SCHEMA))
    for d in doc.get("inputs", []) + doc.get("outputs", []):
        assert d["namespace"] == "yaosu" and d["name"]


def test_every_derivation_of_the_demo_world_is_an_openlineage_event(ctx: Context) -> None:
    found = events(ctx)
    jobs = {e.job for e in found}
    # the world uploads data and makes products of it (the other jobs: tests below)
    assert {"catalog.ingest", "market.product"} <= jobs
    for e in found:
        assert_openlineage(e.event)
        assert e.event["eventType"] == e.event_type and e.event["job"]["name"] == e.job
    uploads = [e for e in found if e.job == "catalog.ingest"]
    first = uploads[0].event
    assert first["inputs"][0]["name"].startswith("uploads/")
    out = first["outputs"][0]
    assert out["name"].startswith("datasets/") and out["name"].endswith("/v1")
    owners = out["facets"]["ownership"]["owners"]
    assert owners[0]["name"].startswith("organisation:") and owners[0]["type"] == "holder"
    assert out["facets"]["version"]["datasetVersion"].startswith("sha256:")
    assert out["outputFacets"]["outputStatistics"]["rowCount"] > 0


def test_a_products_lineage_reaches_its_uploads_rights_and_organisations(
    app_client: TestClient, ctx: Context
) -> None:
    with ctx.db.transaction() as session:
        pid = session.scalar(select(Product.id).order_by(Product.created_at).limit(1))
    answer = app_client.get(f"/api/v1/market/products/{pid}/lineage")
    assert answer.status_code == 200, answer.text
    g = answer.json()
    kinds = {d["name"]: d.get("kind") for d in g["datasets"]}
    assert kinds[f"products/{pid}"] == "product"
    assert any(k == "upload" for k in kinds.values()), "the graph reaches back to the uploads"
    versions = [d for d in g["datasets"] if d.get("kind") == "version"]
    assert versions and all(d.get("org_name") for d in versions)
    # the product run names the chain of title of the operation right each source rests on
    product_run = next(r for r in g["runs"] if r["job"] == "market.product")
    assert product_run["audit"] == {
        "action": "product.create",
        "object_type": "product",
        "object_id": pid,
    }
    rights = [r for d in versions for r in d.get("rights", [])]
    assert rights and "operation" in {r["kind"] for r in rights}
    assert any(r["code"] for r in rights), "registered rights carry their registration code"
    # edges run input -> run -> output, and every end is a node of the graph
    ids = {d["name"] for d in g["datasets"]} | {r["id"] for r in g["runs"]}
    assert all(a in ids and b in ids for a, b in g["edges"])
    assert [product_run["id"], f"products/{pid}"] in g["edges"]
    missing = app_client.get("/api/v1/market/products/prd_nope/lineage")
    assert missing.status_code == 404


def test_a_deidentification_is_one_run_started_then_completed_or_failed(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    owner = auth(ctx, "bureau-admin")
    recipe = app_client.get(
        f"/api/v1/datasets/{residents}/versions/1/suggested-recipe", headers=owner
    ).json()
    recipe["columns"]["姓名"] = {"op": "drop"}
    before = len(events(ctx, job="privacy.deidentify"))
    made = app_client.post(
        f"/api/v1/datasets/{residents}/versions/1/deidentify", json=recipe, headers=owner
    )
    assert made.status_code == 201, made.text
    result = made.json()["result_version"]
    runs = events(ctx, job="privacy.deidentify")[before:]
    assert [e.event_type for e in runs] == ["START", "COMPLETE"]
    assert runs[0].run_id == runs[1].run_id
    done = runs[1].event
    assert [d["name"] for d in done["inputs"]] == [f"datasets/{residents}/v1"]
    assert [d["name"] for d in done["outputs"]] == [f"datasets/{residents}/v{result}"]
    assert done["run"]["facets"]["yaosu_run"]["org_name"]
    # a recipe that suppresses every row fails after the run began: FAIL, no version
    recipe["k_anonymity"] = {"quasi_identifiers": ["出生日期", "性别", "所属乡镇"], "k": 100000}
    failed = app_client.post(
        f"/api/v1/datasets/{residents}/versions/1/deidentify", json=recipe, headers=owner
    )
    assert failed.status_code == 422, failed.text
    runs = events(ctx, job="privacy.deidentify")[before + 2 :]
    assert [e.event_type for e in runs] == ["START", "FAIL"]
    assert runs[1].event["run"]["facets"]["errorMessage"]["message"]
    assert "outputs" not in runs[1].event or not runs[1].event["outputs"]


def test_an_extract_is_a_run_from_the_version_to_the_file_the_user_received(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    contract = extract_contract(app_client, ctx)
    made = app_client.post(
        f"/api/v1/contracts/{contract}/extracts",
        json={"dataset_id": residents, "format": "parquet"},
        headers=auth(ctx, "ai-analyst"),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    runs = events(ctx, job="access.extract", contract_id=contract)
    assert [e.event_type for e in runs] == ["START", "COMPLETE"]
    out = runs[1].event["outputs"][0]
    assert out["name"] == f"extracts/{body['id']}"
    assert out["facets"]["version"]["datasetVersion"] == f"sha256:{body['sha256']}"
    assert out["facets"]["yaosu_dataset"]["part"] == "consumer"
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == body["rows"]


def test_an_answers_rows_used_are_measured_and_kept_in_when_private(ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)  # differentially private
    try:
        result = access.run_query(
            ctx,
            actor(ctx, "coop-manager"),
            contract_id=contract,
            query=f"SELECT 所属乡镇, COUNT(*) AS n FROM {residents} GROUP BY 所属乡镇",
            epsilon=0.5,
        )
    finally:
        access.close_engines(ctx)
    run = events(ctx, job="access.query", contract_id=contract)[-1]
    doc = run.event
    assert doc["outputs"][0]["name"] == f"answers/{result.run_id}"
    # the exact count behind a private answer is not in the event anyone may read...
    assert "inputStatistics" not in json.dumps(doc)
    assert doc["run"]["facets"]["yaosu_run"]["detail"]["private"] is True
    # ...but the platform measured it, for valuing the contributors' shares
    with ctx.db.transaction() as session:
        rows = session.scalar(
            select(LineageDataset.rows).where(
                LineageDataset.event_id == run.id, LineageDataset.side == "in"
            )
        )
        used = lineage.rows_used(session, contract_ids=[contract])
    assert rows is not None and 0 < rows <= 2000
    assert used[f"datasets/{residents}/v1"] >= rows


def test_readers_see_the_events_that_concern_them_as_json_and_ndjson(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)
    try:  # the coop (a data user) asks a question of the bureau's data: one event of its own
        access.run_query(
            ctx,
            actor(ctx, "coop-manager"),
            contract_id=contract,
            query=f"SELECT COUNT(*) AS n FROM {residents}",
            epsilon=0.5,
        )
    finally:
        access.close_engines(ctx)
    every = events(ctx)
    assert app_client.get("/api/v1/lineage/events").status_code == 401

    def seen(user: str) -> dict[str, Any]:
        answer = app_client.get(
            "/api/v1/lineage/events", params={"limit": 5000}, headers=auth(ctx, user)
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert seen("dsj-inspector")["total"] == len(every)  # oversight reads everything
    # the bureau: exactly the events it ran or that name its data (read from the events)
    bureau = actor(ctx, "bureau-admin").org_id

    def concerns(doc: dict[str, Any], org: str | None) -> bool:
        named = {
            d["facets"].get("yaosu_dataset", {}).get("org_id")
            for d in doc.get("inputs", []) + doc.get("outputs", [])
        }
        return org in named or doc["run"]["facets"]["yaosu_run"]["org_id"] == org

    theirs = [e.event for e in every if concerns(e.event, bureau)]
    assert 0 < len(theirs) < len(every)
    assert seen("bureau-admin")["items"] == theirs
    coop = seen("coop-manager")
    coop_org = actor(ctx, "coop-manager").org_id
    assert coop["items"] == [e.event for e in every if concerns(e.event, coop_org)]
    assert "access.query" in {d["job"]["name"] for d in coop["items"]}  # the one it ran
    # the AI company sees the products it made, not the bureau's uploads or the coop's query
    ai = seen("ai-analyst")
    ai_org = actor(ctx, "ai-analyst").org_id
    assert ai["items"] and all(concerns(d, ai_org) for d in ai["items"])
    assert "access.query" not in {d["job"]["name"] for d in ai["items"]}
    lines = app_client.get("/api/v1/lineage/events.ndjson", headers=auth(ctx, "coop-manager"))
    assert lines.status_code == 200
    assert lines.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in lines.text.splitlines()] == coop["items"]
    named = app_client.get(
        "/api/v1/lineage/events",
        params={"name": f"datasets/{residents}/v1", "limit": 5000},
        headers=auth(ctx, "dsj-inspector"),
    ).json()
    assert 0 < named["total"] < len(every)
    bad = app_client.get(
        "/api/v1/lineage/events",
        params={"name": "x' OR 1=1 --"},
        headers=auth(ctx, "coop-manager"),
    )
    assert bad.status_code == 422


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status = 201

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).status < 300:
            type(self).received.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), **json.loads(body)}
            )
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """http.server writes every request to stderr; the test's collector keeps quiet."""


@pytest.fixture
def collector() -> Iterator[tuple[str, type[_Collector]]]:
    handler = type("Collector", (_Collector,), {"received": [], "status": 201})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_events_are_sent_to_an_openlineage_endpoint_once_and_in_order(
    ctx: Context, collector: tuple[str, type[_Collector]]
) -> None:
    url, handler = collector
    settings = ctx.settings.model_copy(update={"lineage_url": url})
    handler.status = 400  # a refusal sends nothing and marks nothing
    refused = lineage.send(ctx.db, settings)
    assert refused.sent == 0 and refused.error and refused.left == len(events(ctx))
    handler.status = 201
    sent = lineage.send(ctx.db, settings, batch=7)
    stored = events(ctx)
    assert sent.sent == len(stored) and sent.left == 0 and sent.error is None
    assert [r["run"]["runId"] for r in handler.received] == [e.run_id for e in stored]
    assert {r["path"] for r in handler.received} == {"/api/v1/lineage"}
    assert handler.received[0]["auth"] is None
    again = lineage.send(ctx.db, settings)
    assert again.sent == 0 and len(handler.received) == len(stored)
    with pytest.raises(Exception, match="YAOSU_LINEAGE_URL"):
        lineage.send(ctx.db, ctx.settings.model_copy(update={"lineage_url": None}))
