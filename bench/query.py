"""Governed queries: Yaosu against raw DuckDB and SmartNoise SQL, in one run.

A generated 10,000,000-row table of insured residents (town, kind, fee, age, resident ID)
becomes the newest version of the demo's residents dataset; the demo contract (aggregate
queries under a privacy budget) is used as the cooperative would use it. For each query:

- raw DuckDB on the same Parquet file, no governance, no noise (the floor);
- Yaosu: the whole governed path (parse, qualify, rewrite, decide and debit in the
  database, audit, run in the locked-down worker, OpenDP release);
- SmartNoise SQL (``smartnoise-sql`` in its own venv, ``bench/.peers-snsql``: it pins an
  older OpenDP) answering the same DP query over the same rows with pandas.

Governance overhead is also measured on small results: the demo's 2,000-row residents table.

    python bench/query.py [--rows 10000000] [--repeat 5] [--snsql-rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import DATA, HERE, machine, stamp

PEERS = HERE / ".peers-snsql"
TOWNS = [
    "城关镇",
    "石桥镇",
    "河口镇",
    "清水乡",
    "白云乡",
    "青山镇",
    "东风乡",
    "龙泉镇",
    "新华乡",
    "红星镇",
]
KINDS = ["正常参保", "暂停缴费", "终止参保", "低保代缴", "新增参保"]

QUERIES = [
    ("count by town", "SELECT 所属乡镇, COUNT(*) AS n FROM {t} GROUP BY 所属乡镇", {}),
    (
        "avg fee by kind",
        'SELECT 参保类型, AVG("缴费档次(元)") AS a FROM {t} GROUP BY 参保类型',
        {"缴费档次(元)": (0, 5000)},
    ),
    (
        "sum fee by town",
        'SELECT 所属乡镇, SUM("缴费档次(元)") AS s FROM {t} GROUP BY 所属乡镇',
        {"缴费档次(元)": (0, 5000)},
    ),
    ("filtered count", "SELECT COUNT(*) AS n FROM {t} WHERE 参保类型 = '正常参保'", {}),
]

SNSQL = r"""
import json, sys, time
import pandas as pd
import snsql
from snsql import Privacy
path, rows, queries = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
frame = pd.read_parquet(path).head(rows).rename(
    columns={"所属乡镇": "town", "参保类型": "kind", "缴费档次(元)": "fee"})[["town", "kind", "fee"]]
meta = {"B": {"B": {"T": {"row_privacy": True, "rows": rows,
    "town": {"type": "string"}, "kind": {"type": "string"},
    "fee": {"type": "int", "lower": 0, "upper": 5000}}}}}
reader = snsql.from_df(frame, privacy=Privacy(epsilon=0.1, delta=1e-6), metadata=meta)
out = {}
for name, sql in queries:
    started = time.perf_counter()
    reader.execute(sql)
    out[name] = time.perf_counter() - started
print(json.dumps(out))
"""
SNSQL_QUERIES = [
    ("count by town", "SELECT town, COUNT(*) AS n FROM B.T GROUP BY town"),
    ("avg fee by kind", "SELECT kind, AVG(fee) AS a FROM B.T GROUP BY kind"),
    ("sum fee by town", "SELECT town, SUM(fee) AS s FROM B.T GROUP BY town"),
    ("filtered count", "SELECT COUNT(*) AS n FROM B.T WHERE kind = '正常参保'"),
]


def table(rows: int) -> Path:
    path = DATA / f"residents_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    rng = np.random.default_rng(43697)
    ids = np.char.add("3301021980", np.char.zfill(np.arange(rows).astype(str), 8))
    pq.write_table(
        pa.table(
            {
                "身份证号": pa.array(ids),
                "所属乡镇": pa.array(np.array(TOWNS)[rng.integers(0, len(TOWNS), rows)]),
                "参保类型": pa.array(np.array(KINDS)[rng.integers(0, len(KINDS), rows)]),
                "缴费档次(元)": pa.array(rng.integers(100, 5000, rows)),
                "年龄": pa.array(rng.integers(16, 95, rows)),
            }
        ),
        path,
        row_group_size=1_000_000,
    )
    return path


def snsql_python() -> str:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    if subprocess.run([str(python), "-c", "import snsql"], capture_output=True).returncode:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "smartnoise-sql", "pyarrow"], check=True
        )
    return str(python)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--snsql-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--groups-only", action="store_true", help="only the share of groups released"
    )
    args = parser.parse_args()
    print(f"# governed query benchmark, {stamp()}, {machine()}")
    big = None if args.groups_only else table(args.rows)

    home = Path(tempfile.mkdtemp(prefix="yaosu-bench-"))
    os.environ["YAOSU_HOME"] = str(home)
    os.environ.pop("YAOSU_DATABASE_URL", None)
    from sqlalchemy import select

    from yaosu.access import service
    from yaosu.accounts.models import User
    from yaosu.accounts.service import actor_for
    from yaosu.authorization.models import Contract
    from yaosu.catalog import versions
    from yaosu.catalog.models import Dataset
    from yaosu.context import open_context
    from yaosu.demo.service import seed
    from yaosu.kernel.settings import reset_settings

    reset_settings()
    ctx = open_context(migrate=True)  # a fresh home: migrate, then seed
    seed(ctx)
    with ctx.db.transaction() as session:
        residents = session.scalar(select(Dataset).where(Dataset.title.contains("参保人员")))
        coop = actor_for(
            session, user=session.scalar(select(User).where(User.username == "coop-manager"))
        )
        bureau = actor_for(
            session, user=session.scalar(select(User).where(User.username == "bureau-admin"))
        )
        contract = session.scalar(select(Contract))
        contract.max_uses = 100_000  # the bench spends many uses and
        contract.epsilon_budget = 1_000.0  # much budget; a real contract would not
        contract_id, dataset = contract.id, residents.id
    small = ctx.store.path(catalog_version_sha(ctx, dataset))

    def yaosu(sql: str, bounds: dict[str, tuple[float, float]]) -> float:
        started = time.perf_counter()
        service.run_query(
            ctx,
            coop,
            contract_id=contract_id,
            query=sql.format(t=dataset),
            epsilon=0.01,
            bounds=bounds,
        )
        return time.perf_counter() - started

    def raw(path: Path, sql: str) -> float:
        con = duckdb.connect()
        started = time.perf_counter()
        con.sql(sql.format(t=f"read_parquet('{path}')")).fetchall()
        elapsed = time.perf_counter() - started
        con.close()
        return elapsed

    def best(fn, *a) -> float:
        fn(*a)  # warm: the worker process starts, files are cached
        return statistics.median(fn(*a) for _ in range(args.repeat))

    released_groups(ctx, coop, contract_id, dataset, small, repeat=max(args.repeat, 20))
    if big is None:
        return
    print("\n## small results (the demo's 2,000-row table): governance overhead per query")
    print("| query | raw DuckDB ms | Yaosu ms | overhead ms |\n|---|---:|---:|---:|")
    overheads = []
    for name, sql, bounds in QUERIES:
        r, y = best(raw, small, sql), best(yaosu, sql, bounds)
        overheads.append((y - r) * 1000)
        print(f"| {name} | {r * 1000:.1f} | {y * 1000:.1f} | {(y - r) * 1000:.1f} |")
    print(f"median overhead: {statistics.median(overheads):.1f} ms (target <= 5 ms)")

    print(f"\n## {args.rows:,} rows")
    versions.run_ingest(ctx, bureau, dataset_id=dataset, source=big, filename=big.name)
    snsql = json.loads(
        subprocess.run(
            [
                snsql_python(),
                "-c",
                SNSQL,
                str(big),
                str(args.snsql_rows),
                json.dumps(SNSQL_QUERIES),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=7200,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    scale = args.rows / args.snsql_rows
    print(
        "| query | raw DuckDB s | Yaosu s | Yaosu / DuckDB | SmartNoise s (extrapolated) | SmartNoise / Yaosu |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, sql, bounds in QUERIES:
        r, y = best(raw, big, sql), best(yaosu, sql, bounds)
        s = snsql[name] * scale
        print(f"| {name} | {r:.3f} | {y:.3f} | {y / r:.2f}x | {s:.2f} | {s / y:.0f}x |")
    print(
        f"(SmartNoise SQL ran on {args.snsql_rows:,} rows with pandas and is extrapolated linearly.)"
    )
    service.close_engines(ctx)


GROUPED = [
    ("count by town", "SELECT 所属乡镇, COUNT(*) AS n FROM {t} GROUP BY 所属乡镇"),
    ("count by kind × town", "SELECT 参保类型, 所属乡镇, COUNT(*) AS n FROM {t} GROUP BY 1, 2"),
    (
        "count, avg fee by kind × town",
        'SELECT 参保类型, 所属乡镇, COUNT(*) AS n, AVG("缴费档次(元)") AS a FROM {t} GROUP BY 1, 2',
    ),
    (
        "count by fee × town",
        'SELECT "缴费档次(元)", 所属乡镇, COUNT(*) AS n FROM {t} GROUP BY 1, 2',
    ),
]


def released_groups(ctx, coop, contract_id: str, dataset: str, small: Path, *, repeat: int) -> None:
    """The share of the true groups a private answer shows at ε = 0.1 on the demo contract,
    with the data dictionary's public domains (every declared group released with noise) and
    without them (OpenDP's noisy threshold, as before issue 13). The fee's public bounds come
    from the dictionary in both."""
    from yaosu.access import service
    from yaosu.catalog.models import ColumnEntry

    def domains(on: bool, saved: dict[str, list] | None = None) -> dict[str, list]:
        with ctx.db.transaction() as session:
            entries = session.query(ColumnEntry).filter(ColumnEntry.dataset_id == dataset).all()
            kept = {e.column: e.domain for e in entries}
            for e in entries:
                e.domain = (saved or {}).get(e.column) if on else None
            return kept

    print(
        "\n## groups released at ε = 0.1 on the demo contract (2,000 rows), before and after public domains"
    )
    print(f"mean over {repeat} answers; true groups counted by raw DuckDB on the same file")
    print("| query | true groups | released, threshold only | released, public domains |")
    print("|---|---:|---:|---:|")
    saved = domains(False)
    shares: dict[str, list[float]] = {}
    truth: dict[str, int] = {}
    for phase in ("threshold", "public"):
        if phase == "public":
            domains(True, saved)
        for name, sql in GROUPED:
            con = duckdb.connect()
            exact = con.sql(sql.format(t=f"read_parquet('{small}')")).fetchall()
            con.close()
            truth[name] = len(exact)
            found = []
            for _ in range(repeat):
                answer = service.run_query(
                    ctx, coop, contract_id=contract_id, query=sql.format(t=dataset), epsilon=0.1
                )
                real = {tuple(r[: len(r) - (2 if "AVG" in sql else 1)]) for r in answer.rows}
                true_keys = {tuple(r[: len(r) - (2 if "AVG" in sql else 1)]) for r in exact}
                found.append(len(real & true_keys) / max(1, len(true_keys)))
            shares.setdefault(name, []).append(statistics.mean(found))
    for name, _ in GROUPED:
        before, after = shares[name]
        print(f"| {name} | {truth[name]} | {before:.0%} | {after:.0%} |")


def catalog_version_sha(ctx, dataset: str) -> str:
    from yaosu.catalog import versions
    from yaosu.kernel.actor import system_actor

    with ctx.db.transaction() as session:
        return versions.get_version(session, system_actor(), dataset_id=dataset, number=None).sha256


if __name__ == "__main__":
    main()
