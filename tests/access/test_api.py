"""Governed queries through the API, the Python client and ``yaosu query``; 50 clients at
once never spend more than the contract's budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import httpx

from tests.conftest import dataset_id, demo_contract_id, token_for
from yaosu import Client, YaosuClientError
from yaosu.authorization.models import Contract
from yaosu.context import Context


def _contract(ctx: Context) -> str:
    with ctx.db.transaction() as session:
        return str(demo_contract_id(session))


def test_client_and_cli_query_under_the_demo_contract(server: str, ctx: Context) -> None:
    residents, contract = dataset_id(ctx, "参保人员"), _contract(ctx)
    token = token_for(ctx, "coop-manager")
    with Client(server, token=token) as client:
        table = client.query(
            contract,
            f'SELECT 参保类型, COUNT(*) AS n, AVG("缴费档次(元)") AS avg_fee FROM {residents} GROUP BY 参保类型',
            epsilon=0.3,
            bounds={"缴费档次(元)": (0, 5000)},
        )
        assert table.column_names == ["参保类型", "n", "avg_fee"] and table.num_rows >= 1
        meta = table.schema.metadata
        assert float(meta[b"epsilon"]) == 0.3
        accuracy = json.loads(meta[b"accuracy"])
        assert set(accuracy) == {"n", "avg_fee"}
        assert all(0 <= v <= 5000 for v in table.column("avg_fee").to_pylist())
        try:
            client.query(contract, f"SELECT 姓名 FROM {residents}", epsilon=0.1)
        except YaosuClientError as exc:
            assert exc.status == 403 and "姓名" in exc.message
        else:
            raise AssertionError("a field outside the contract was answered")
    env = {**os.environ, "YAOSU_SERVER": server, "YAOSU_TOKEN": token, "COLUMNS": "200"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "yaosu",
            "query",
            "--contract",
            contract,
            "--epsilon",
            "0.2",
            f"SELECT COUNT(*) AS n FROM {residents}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "ε = 0.2" in out.stdout and "95%" in out.stdout
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "yaosu",
            "query",
            "--contract",
            contract,
            "--epsilon",
            "0.2",
            f"DROP TABLE {residents}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert refused.returncode == 1 and "QUERY_REFUSED" in refused.stderr


def test_fifty_clients_never_overspend_the_privacy_budget(server: str, ctx: Context) -> None:
    """The demo contract has ε = 2 with 0.75 spent; 50 clients each ask for a query at
    ε = 0.1 at the same moment: exactly 12 are answered, and the budget is never exceeded."""
    residents, contract = dataset_id(ctx, "参保人员"), _contract(ctx)
    token = token_for(ctx, "coop-manager")
    results: list[int] = []
    bodies: list[str] = []
    barrier = threading.Barrier(50)

    def one() -> None:
        with httpx.Client(base_url=server, timeout=180) as http:
            barrier.wait()
            r = http.post(
                "/api/v1/queries",
                json={
                    "contract_id": contract,
                    "sql": f"SELECT COUNT(*) AS n FROM {residents}",
                    "epsilon": 0.1,
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            results.append(r.status_code)
            if r.status_code not in (200, 403):
                bodies.append(r.text[:300])

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(results) == 50 and set(results) <= {200, 403}, (results, bodies)
    assert results.count(200) == 12
    with ctx.db.transaction() as session:
        row = session.get(Contract, contract)
        assert row is not None and row.epsilon_spent <= 2.0 + 1e-9
        assert abs(row.epsilon_spent - 1.95) < 1e-9


def test_the_same_governed_query_runs_on_spark(server: str, ctx: Context) -> None:
    """``engine=spark``: the whole governed path (decision, debit, audit, DP release) with
    the rewritten SQL transpiled for Spark; the answer has the same shape as DuckDB's (exact
    equality before noise is tested in test_engines.py)."""
    residents, contract = dataset_id(ctx, "参保人员"), _contract(ctx)
    query = f"SELECT 参保类型, COUNT(*) AS n FROM {residents} GROUP BY 参保类型"
    with Client(server, token=token_for(ctx, "coop-manager")) as client:
        spark = client.query(contract, query, epsilon=0.5, engine="spark")
        duck = client.query(contract, query, epsilon=0.5, engine="duckdb")
    assert spark.column_names == duck.column_names == ["参保类型", "n"]
    assert spark.num_rows >= 1 and duck.num_rows >= 1
    assert float(spark.schema.metadata[b"epsilon"]) == 0.5
